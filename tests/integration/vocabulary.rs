//! Vocabulary biasing (issue 13, in progress): the term list's checks, the encoder, and the dev set
//! (tests/fixtures/vocabulary/) with the real model.

use std::sync::Arc;

use earshot::Bias;

use crate::common::{joined, read_wav_mono, recognize, recognizer, root};

fn terms() -> Vec<String> {
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
    // Text whose lower case has other byte lengths (U+0130) is left as it is, not cut mid-character.
    assert_eq!(bias.respell("İstanbul nginx"), "İstanbul nginx");
    // 10,000 terms is a documented limit, not a failure.
    let many: Vec<String> = (0..10_000).map(|i| format!("name{i}")).collect();
    assert_eq!(
        Bias::new(&many, 5.0, vocabulary).unwrap().terms().len(),
        10_000
    );
}

/// (recall of listed terms, words of the plain utterances, errors on them, listed terms inserted into them).
fn dev_set(recognizer: &earshot::Recognizer) -> (f64, usize, usize, usize) {
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
    // 23.3 % -> 80.0 % on 2026-12-02 (fusion alone: 68.3 %; the rest is the term check of beam finals).
    assert!(
        recall_with >= recall_without + 0.5,
        "recall {recall_without:.2} -> {recall_with:.2}"
    );
    assert_eq!(
        inserted, 0,
        "a listed term that was never spoken was inserted"
    );
    // Within 3 words (1 point) of the plain utterances' errors without the list (the target is 0.3 points).
    assert!(
        errors_with <= errors_without + 3,
        "{errors_without} -> {errors_with} errors"
    );
}

#[test]
fn the_profile_table_and_the_flags_bias_transcribe_listen_and_bench() {
    // term07: "Ask Joaquin whether the van is free tomorrow."; without help tiny.en writes "Jokwyn".
    let clip = "tests/fixtures/vocabulary/term07.wav";
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
    assert!(!plain.contains("Joaquin"), "{plain}");
    // A profile's [vocabulary] table.
    let profile = dir.join("names.toml");
    std::fs::write(
        &profile,
        "name = \"names\"\ndescription = \"test\"\n[vocabulary]\nterms = [\"Joaquin\", \"Living Room\"]\nstrength = 5.0\n",
    )
    .unwrap();
    let profile = profile.to_str().unwrap();
    assert!(text(&crate::common::earshot(&[
        "transcribe",
        "--profile",
        profile,
        clip
    ]))
    .contains("Joaquin"));
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
        "Joaquin",
    ]));
    let finals: Vec<&str> = live.lines().filter(|l| l.contains("\"final\"")).collect();
    assert!(finals.len() == 1 && finals[0].contains("Joaquin"), "{live}");
    let manifest = dir.join("manifest.tsv");
    std::fs::write(
        &manifest,
        format!(
            "{}\tAsk Joaquin whether the van is free tomorrow.\n",
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
        "Joaquin",
        "--json",
        report.to_str().unwrap(),
        manifest.to_str().unwrap(),
    ]));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        report["profile"]["vocabulary"]["terms"],
        serde_json::json!(["Joaquin"])
    );
    assert!(
        report.to_string().contains("Ask Joaquin whether"),
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
fn the_term_check_of_beam_finals_places_terms_the_search_missed() {
    // With the list, beam 5 alone writes "Eva" (term01) and "Hubridge" (term43): the term check of the final puts
    // the listed spelling where the model accepts it. With a list, the default profile's finals take its fallback
    // beam (5) from the start even at --beam 1; a profile without the fallback beam (Pi Zero 2 W) leaves greedy
    // finals to the fusion.
    let run_with = |profile: &str, clip: &str, list: &str, beam: &str| {
        let out = crate::common::earshot(&[
            "transcribe",
            "-q",
            "--profile",
            profile,
            "--beam",
            beam,
            "--vocabulary",
            list,
            &format!("tests/fixtures/vocabulary/{clip}.wav"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let run = |clip: &str, list: &str, beam: &str| run_with("default", clip, list, beam);
    assert_eq!(
        run("term01", "Aoife", "5"),
        "Send a message to Aoife saying I am on my way."
    );
    assert_eq!(
        run("term43", "ESPHome, Hue Bridge", "5"),
        "ESPHome talks to the Hue Bridge over the local network."
    );
    assert_eq!(
        run("term01", "Aoife", "1"),
        "Send a message to Aoife saying I am on my way."
    );
    assert!(!run_with("raspberry-pi-zero-2w", "term01", "Aoife", "1").contains("Aoife"));
    // A list of terms none of which is spoken changes nothing in a plain utterance.
    let plain = run("plain01", "Kubernetes, Nguyen, Shelly", "5");
    assert_eq!(plain, "Turn on the lights in the bathroom.");
}
