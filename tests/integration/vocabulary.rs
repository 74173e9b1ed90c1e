//! Vocabulary biasing (issue 13, in progress): the term list's checks, the encoder, and the dev set
//! (tests/fixtures/vocabulary/) with the real model.

use std::sync::Arc;

use earshot::Bias;

use crate::common::{joined, read_wav_mono, recognize, recognizer, root};

/// The dev set's 30-term list.
pub fn terms() -> Vec<String> {
    std::fs::read_to_string(root().join("tests/fixtures/vocabulary/terms.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn terms_encode_to_tokens_that_decode_back_and_bad_lists_are_refused() {
    let recognizer = recognizer("default", None);
    let vocabulary = recognizer.vocabulary();
    for text in [
        " PostgreSQL",
        " Aoife",
        "Kubernetes",
        " Zoë",
        " 北京",
        " nginx",
    ] {
        let ids = vocabulary.encode(text);
        assert_eq!(vocabulary.detokenize(&ids), text, "{ids:?}");
    }
    let list = |terms: &[&str]| terms.iter().map(|t| t.to_string()).collect::<Vec<_>>();
    let refused = [
        (list(&[]), "no terms"),
        (list(&[" ", ""]), "no terms"),
        (list(&["bad\u{7}bell"]), "control character"),
        (list(&[&"x".repeat(65)]), "longer than 64"),
        (
            (0..10_001).map(|i| format!("term{i}")).collect(),
            "at most 10000",
        ),
    ];
    for (terms, says) in refused {
        let error = Bias::new(&terms, 5.0, vocabulary).unwrap_err();
        assert!(error.contains(says), "{error}");
    }
    assert!(Bias::new(&list(&["a"]), 25.0, vocabulary)
        .unwrap_err()
        .contains("strength"));
    let bias = Bias::new(
        &list(&["PostgreSQL", "postgresql", "nginx"]),
        5.0,
        vocabulary,
    )
    .unwrap();
    assert_eq!(
        bias.terms(),
        ["PostgreSQL", "nginx"],
        "duplicates dropped case-insensitively"
    );
    assert_eq!(
        bias.respell("Reload NGINX and the postgresql database, not nginxes."),
        "Reload nginx and the PostgreSQL database, not nginxes."
    );
    // A term of everyday words is left as the model wrote it ("it didn't matter"), a rarer one is respelled.
    let everyday = Bias::new(&list(&["Matter", "Ring", "Tado"]), 5.0, vocabulary).unwrap();
    assert_eq!(
        everyday.respell("It didn't matter, ring the tado."),
        "It didn't matter, ring the Tado."
    );
    // Text whose lower case has other byte lengths (U+0130) is left as it is, not cut mid-character.
    assert_eq!(bias.respell("İstanbul nginx"), "İstanbul nginx");
    // 10,000 terms is a documented limit, not a failure.
    let many: Vec<String> = (0..10_000).map(|i| format!("name{i}")).collect();
    assert_eq!(
        Bias::new(&many, 5.0, vocabulary).unwrap().terms().len(),
        10_000
    );
}

/// The vocabulary dev set through `recognizer`: (recall of listed terms, words of the plain utterances, errors on
/// them, listed terms inserted into them).
pub fn dev_set(recognizer: &earshot::Recognizer) -> (f64, usize, usize, usize) {
    use earshot::bench::wer::{edit_distance, normalize};
    let manifest =
        std::fs::read_to_string(root().join("tests/fixtures/vocabulary/manifest.tsv")).unwrap();
    let all = terms();
    let words = |t: &str| normalize(t).join(" ");
    let (mut hits, mut total, mut plain_words, mut plain_errors, mut inserted) = (0, 0, 0, 0, 0);
    for line in manifest.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let (audio, rate) = read_wav_mono(&root().join("tests/fixtures/vocabulary").join(f[0]));
        let text = joined(&recognize(recognizer, &audio, rate));
        let spoken: Vec<&str> = f
            .get(3)
            .map_or(vec![], |t| t.split('|').filter(|t| !t.is_empty()).collect());
        if spoken.is_empty() {
            let reference = normalize(f[2]);
            plain_words += reference.len();
            plain_errors += edit_distance(&reference, &normalize(&text));
            inserted += all
                .iter()
                .filter(|t| words(&text).contains(&words(t)))
                .count();
        }
        for term in spoken {
            total += 1;
            hits += usize::from(words(&text).contains(&words(term)));
        }
    }
    (
        hits as f64 / total as f64,
        plain_words,
        plain_errors,
        inserted,
    )
}

#[test]
fn listed_terms_are_recognised_more_often_and_plain_speech_is_not_hurt() {
    let plain = recognizer("default", Some(5));
    let bias = Bias::new(&terms(), 5.0, plain.vocabulary()).unwrap();
    let biased = plain.clone().with_vocabulary(Some(Arc::new(bias)));
    let (recall_without, words, errors_without, _) = dev_set(&plain);
    let (recall_with, _, errors_with, inserted) = dev_set(&biased);
    println!(
        "beam 5: term recall {:.1} % -> {:.1} %; plain WER {:.2} % -> {:.2} % ({words} words); listed terms inserted {inserted}",
        recall_without * 100.0,
        recall_with * 100.0,
        errors_without as f64 * 100.0 / words as f64,
        errors_with as f64 * 100.0 / words as f64,
    );
    // 25.0 % -> 63.3 % on 2026-12-07: a term is kept only where the model, without the bias, scores the text with it
    // at most 3.5 nats below the text without it, or 5 and 8 when it sounds like the words it replaces (51.7 % with
    // 3.5 for every term; 76.7 % when the list also changed term-free speech).
    assert!(
        recall_with >= recall_without + 0.35,
        "recall {recall_without:.2} -> {recall_with:.2}"
    );
    assert_eq!(
        inserted, 0,
        "a listed term that was never spoken was inserted"
    );
    // The list adds no error to the utterances without its terms.
    assert!(
        errors_with <= errors_without,
        "{errors_without} -> {errors_with} errors"
    );
}

#[test]
fn the_profile_table_and_the_flags_bias_transcribe_listen_and_bench() {
    // term19: "The PostgreSQL database needs a new index."; without help tiny.en writes "Postker SQL".
    let clip = "tests/fixtures/vocabulary/term19.wav";
    let dir = crate::common::scratch_dir("vocabulary-surfaces");
    let text = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let plain = text(&crate::common::earshot(&["transcribe", clip]));
    assert!(!plain.contains("PostgreSQL"), "{plain}");
    // A profile's [vocabulary] table.
    let profile = dir.join("names.toml");
    std::fs::write(
        &profile,
        "name = \"names\"\ndescription = \"test\"\n[vocabulary]\nterms = [\"PostgreSQL\", \"Living Room\"]\nstrength = 5.0\n",
    )
    .unwrap();
    let profile = profile.to_str().unwrap();
    assert!(text(&crate::common::earshot(&[
        "transcribe",
        "--profile",
        profile,
        clip
    ]))
    .contains("PostgreSQL"));
    // The flags replace the profile's list: with another list the name is not biased any more.
    let replaced = text(&crate::common::earshot(&[
        "transcribe",
        "--profile",
        profile,
        "--vocabulary",
        "Ecobee",
        clip,
    ]));
    assert_eq!(replaced, plain);
    // listen (live path, partials on) and bench.
    let live = text(&crate::common::earshot(&[
        "listen",
        "--replay",
        clip,
        "--fast",
        "--json",
        "--vocabulary",
        "PostgreSQL",
    ]));
    let finals: Vec<&str> = live.lines().filter(|l| l.contains("\"final\"")).collect();
    assert!(
        finals.len() == 1 && finals[0].contains("PostgreSQL"),
        "{live}"
    );
    let manifest = dir.join("manifest.tsv");
    std::fs::write(
        &manifest,
        format!(
            "{}\tThe PostgreSQL database needs a new index.\n",
            root().join(clip).display()
        ),
    )
    .unwrap();
    let report = dir.join("bench.json");
    text(&crate::common::earshot(&[
        "bench",
        "--fast",
        "--no-partials",
        "--vocabulary",
        "PostgreSQL",
        "--json",
        report.to_str().unwrap(),
        manifest.to_str().unwrap(),
    ]));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        report["profile"]["vocabulary"]["terms"],
        serde_json::json!(["PostgreSQL"])
    );
    assert!(
        report.to_string().contains("The PostgreSQL database"),
        "no biased final in the report"
    );
    // Bad lists and strengths: exit 6 naming the flag or the profile field.
    let bad = crate::common::earshot(&["listen", "--replay", clip, "--vocabulary", " , "]);
    assert_eq!(bad.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&bad.stderr)
        .contains("--vocabulary: the vocabulary list holds no terms"));
    let bad = crate::common::earshot(&["transcribe", "--vocabulary-strength", "30", clip]);
    assert_eq!(bad.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("strength 30 is outside 0..=8"));
    let bad_profile = dir.join("bad.toml");
    std::fs::write(
        &bad_profile,
        "name = \"b\"\ndescription = \"t\"\n[vocabulary]\nterms = [\"bell\\u0007\"]\n",
    )
    .unwrap();
    let bad = crate::common::earshot(&[
        "transcribe",
        "--profile",
        bad_profile.to_str().unwrap(),
        clip,
    ]);
    assert_eq!(bad.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("control character"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_list_adds_its_terms_where_the_model_accepts_them_and_changes_nothing_else() {
    let run_with = |profile: &str, clip: &str, list: Option<&str>| {
        let mut args = vec!["transcribe", "-q", "--profile", profile, clip];
        if let Some(list) = list {
            args.extend(["--vocabulary", list]);
        }
        let out = crate::common::earshot(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let run = |clip: &str, list: Option<&str>| run_with("default", clip, list);
    let read_list = |path: &str| {
        std::fs::read_to_string(root().join(path))
            .unwrap()
            .lines()
            .filter(|t| !t.trim().is_empty() && !t.starts_with('#'))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let list = read_list("tests/fixtures/vocabulary/terms.txt");
    // Without the list the model writes "Shelley" and "Postker SQL"; the biased search (and the term check) find
    // the listed spelling, and the model without the bias accepts it there.
    let term16 = "tests/fixtures/vocabulary/term16.wav";
    assert_eq!(
        run(term16, None),
        "Switch off the Shelley plug in the garage."
    );
    assert_eq!(
        run(term16, Some(&list)),
        "Switch off the Shelly plug in the garage."
    );
    let term19 = "tests/fixtures/vocabulary/term19.wav";
    assert_eq!(
        run(term19, Some(&list)),
        "The PostgreSQL database needs a new index."
    );
    // "graph on a" sounds like Grafana (the same Double Metaphone key): the term may cost the text more than one
    // that sounds unlike the words it replaces (5.3 nats here, where "fridge" -> Frigate costs 3.9 and is refused).
    let term21 = "tests/fixtures/vocabulary/term21.wav";
    assert_eq!(
        run(term21, None),
        "Open the graph on a dashboard for the web servers."
    );
    assert_eq!(
        run(term21, Some(&list)),
        "Open the Grafana dashboard for the web servers."
    );
    // Term-free speech the list used to change ("He left Joaquin on ...", "... opens at nginx Saturday."): the text
    // is exactly what it is without the list, with the 30 terms and with the term that was put there alone.
    for (clip, term) in [("free003", "Joaquin"), ("free047", "nginx")] {
        let clip = format!("tests/fixtures/vocabulary_harm/{clip}.wav");
        let plain = run(&clip, None);
        assert!(!plain.contains(term), "{plain}");
        assert_eq!(run(&clip, Some(&list)), plain);
        assert_eq!(run(&clip, Some(term)), plain);
    }
    // Words that sound only somewhat like a term the biased search writes there ("phone office" -> Home Office,
    // "fridge" -> Frigate, 3.8 and 3.9 nats) stay as they are with the 100-term list.
    let hundred = read_list("benches/vocabulary/lists/100.txt");
    for clip in ["free012", "free045"] {
        let clip = format!("tests/fixtures/vocabulary_harm/{clip}.wav");
        assert_eq!(run(&clip, Some(&hundred)), run(&clip, None));
    }
    // A profile without the fallback beam (Pi Zero 2 W) searches the list greedily, with the same acceptance.
    assert_eq!(
        run_with("raspberry-pi-zero-2w", term16, Some(&list)),
        "Switch off the Shelly plug in the garage."
    );
    let plain = run(
        "tests/fixtures/vocabulary/plain01.wav",
        Some("Kubernetes, Nguyen, Shelly"),
    );
    assert_eq!(plain, "Turn on the lights in the bathroom.");
}
