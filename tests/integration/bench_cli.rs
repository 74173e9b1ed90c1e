//! `earshot bench` as a user runs it: a small corpus through the live path, the table, the JSON report, the plot, the
//! comparison of two runs, and clear errors for a bad corpus.

use earshot::bench::BenchReport;

use crate::common::{earshot, scratch_dir, speech};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A manifest of three clips in the issue's `path<TAB>reference` form: a 48 kHz stereo one (resampled on the way in),
/// an 8 kHz one, and one without speech.
fn small_corpus(dir: &std::path::Path) -> std::path::PathBuf {
    let manifest = dir.join("corpus.tsv");
    let line = |file: &str, reference: &str| format!("{}\t{reference}\n", speech(file).display());
    std::fs::write(
        &manifest,
        line(
            "name04_stereo_48000hz.wav",
            "Anna sent the report to Thomas before lunch.",
        ) + &line("q05_8000hz.wav", "")
            + &line("nonspeech_white_noise.wav", ""),
    )
    .unwrap();
    manifest
}

/// A manifest of one 4.5 s question with its reference.
fn one_question(dir: &std::path::Path) -> std::path::PathBuf {
    let manifest = dir.join("one.tsv");
    let line = format!(
        "{}\tHow far is it from here to the train station?\n",
        speech("q02.wav").display()
    );
    std::fs::write(&manifest, line).unwrap();
    manifest
}

#[test]
fn fast_run_writes_a_report_a_plot_and_compares() {
    let dir = scratch_dir("bench_fast");
    let manifest = small_corpus(&dir);
    let json = dir.join("run.json");
    let plot = dir.join("run.svg");
    let o = earshot(&[
        "bench",
        manifest.to_str().unwrap(),
        "--fast",
        "--json",
        json.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let table = text(&o.stdout);
    for row in [
        "capture_per_frame_us",
        "ring_wait_ms",
        "encoder_0500_ms",
        "decoder_call_ms",
        "detokenize_us",
        "RTF",
        "peak RSS",
        "WER",
    ] {
        assert!(table.contains(row), "{row} missing from:\n{table}");
    }

    let report = BenchReport::load(&json).unwrap();
    let r = &report.results;
    assert_eq!(report.run.mode, "fast");
    assert_eq!(report.run.clips, 3);
    assert_eq!(report.profile.name, "default");
    assert!(
        report.model.checksums.contains_key("encoder.onnx"),
        "{:?}",
        report.model.checksums
    );
    assert!(report.machine.cores >= 1 && !report.machine.arch.is_empty());
    // Stages were timed: every frame went through the capture side and the ring.
    let frames = report.raw.stages.ring_wait_ns.len();
    assert!(
        frames as f64 >= report.run.audio_s * 99.0,
        "{frames} frames for {} s",
        report.run.audio_s
    );
    assert!(r.stages["decoder_call_ms"].count >= 8, "{:?}", r.stages);
    assert!(r.rtf.is_some_and(|x| x > 0.0 && x < 1.0), "{:?}", r.rtf);
    assert!(r.peak_rss_mb > 50.0 && r.load_ms > 0.0);
    // The speech clip got its final, the two clips without words none (q05_8000hz is given an empty reference on
    // purpose: it says something, so it must show up as a "silent clip with text").
    assert_eq!(r.missed_clips, 0, "{:?}", report.raw.clips);
    assert_eq!(r.false_finals, 1, "{:?}", report.raw.clips);
    assert!(
        report.raw.clips[0].hypothesis.contains("report to Thomas"),
        "{:?}",
        report.raw.clips[0]
    );
    assert!(
        report.raw.clips[2].hypothesis.is_empty(),
        "{:?}",
        report.raw.clips[2]
    );
    assert!(r.wer.is_some_and(|w| w.words == 8), "{:?}", r.wer);
    // Fast mode reports no user-facing latencies (they would be queueing).
    assert!(r.first_partial_ms.is_none() && r.endpoint_wait_ms.is_none());

    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("decoder call"),
        "{}",
        &svg[..200.min(svg.len())]
    );

    let compared = earshot(&[
        "bench",
        "--compare",
        json.to_str().unwrap(),
        json.to_str().unwrap(),
    ]);
    assert!(compared.status.success(), "{}", text(&compared.stderr));
    let out = text(&compared.stdout);
    let rtf_row = out
        .lines()
        .find(|l| l.starts_with("RTF"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(rtf_row.trim_end().ends_with("1.00"), "{rtf_row}");
}

#[test]
fn real_time_run_measures_first_partial_and_final_latency() {
    let dir = scratch_dir("bench_real_time");
    let manifest = one_question(&dir);
    let json = dir.join("rt.json");
    let png = dir.join("rt.png");
    let o = earshot(&[
        "bench",
        manifest.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let image = std::fs::read(&png).unwrap();
    assert!(
        image.starts_with(b"\x89PNG") && image.len() > 20_000,
        "{} bytes",
        image.len()
    );
    let report = BenchReport::load(&json).unwrap();
    let r = &report.results;
    assert_eq!(report.run.mode, "real-time");
    // Real time: the run lasts about as long as its audio.
    assert!(
        report.run.wall_s >= report.run.audio_s * 0.95,
        "{} s wall for {} s",
        report.run.wall_s,
        report.run.audio_s
    );
    assert!(r.rtf.is_none());
    assert_eq!(r.first_partial_ms.map(|s| s.count), Some(1), "{r:?}");
    let wait = r.endpoint_wait_ms.expect("endpoint wait");
    let compute = r.compute_after_endpoint_ms.expect("compute after endpoint");
    let total = r.final_ms.expect("final latency");
    assert!((total.p50 - (wait.p50 + compute.p50)).abs() < 1e-6, "{r:?}");
    // The endpoint waits for the trailing-silence rule (600 ms in the default profile).
    assert!(wait.p50 >= 500.0, "{wait:?}");
    assert_eq!(r.wer.map(|w| w.errors), Some(0), "{:?}", report.raw.clips);
}

#[test]
fn bad_corpus_and_bad_report_give_clear_errors() {
    let dir = scratch_dir("bench_errors");
    let missing = earshot(&["bench", "no/such/corpus.tsv", "--fast"]);
    assert_eq!(missing.status.code(), Some(3), "{}", text(&missing.stderr));
    assert!(
        text(&missing.stderr).contains("no/such/corpus.tsv"),
        "{}",
        text(&missing.stderr)
    );

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = earshot(&["bench", empty.to_str().unwrap(), "--fast"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("no clips"), "{}", text(&o.stderr));

    let broken = dir.join("broken.tsv");
    std::fs::write(&broken, "does-not-exist.wav\tHello.\n").unwrap();
    let o = earshot(&["bench", broken.to_str().unwrap(), "--fast"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("does-not-exist.wav"),
        "{}",
        text(&o.stderr)
    );

    let not_a_report = dir.join("x.json");
    std::fs::write(&not_a_report, "{\"a\": 1}").unwrap();
    let o = earshot(&[
        "bench",
        "--compare",
        not_a_report.to_str().unwrap(),
        not_a_report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("not an earshot bench report"),
        "{}",
        text(&o.stderr)
    );

    let o = earshot(&[
        "bench",
        "--fast",
        "--plot",
        dir.join("p.jpg").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(".svg or .png"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn soak_repeats_the_corpus_and_reports_memory_and_latency_drift() {
    let dir = scratch_dir("bench_soak");
    let manifest = one_question(&dir);
    let json = dir.join("soak.json");
    // Half a minute of audio: the 4.5 s clip + gap about seven times.
    let o = earshot(&[
        "bench",
        manifest.to_str().unwrap(),
        "--soak",
        "0.5",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("soak: RSS"), "{}", text(&o.stdout));
    let report = BenchReport::load(&json).unwrap();
    assert_eq!(report.run.mode, "fast");
    assert!(report.run.audio_s >= 30.0, "{}", report.run.audio_s);
    let passes = report.raw.clips.len();
    assert!(passes >= 6, "{passes} passes");
    assert!(
        report
            .raw
            .clips
            .iter()
            .all(|c| c.hypothesis.contains("train station")),
        "{:?}",
        report.raw.clips
    );
    assert_eq!(report.results.finals, passes);
    assert_eq!(report.results.missed_clips, 0);
    let soak = report.results.soak.expect("soak summary");
    assert!(
        soak.rss_start_mb > 50.0 && soak.rss_end_mb > 50.0 && soak.rss_max_mb >= soak.rss_end_mb
    );
    // A run under 20 minutes compares its halves (issue 27: "the first 600 s" and "the last 600 s" of 30 s were the
    // same finals): every final is in one half (one exactly at the middle in both).
    assert!(
        (soak.window_s - report.run.audio_s / 2.0).abs() < 1e-6,
        "{}",
        soak.window_s
    );
    let first = soak.first_decode_ms.map_or(0, |s| s.count);
    let last = soak.last_decode_ms.map_or(0, |s| s.count);
    assert!(
        first >= 1 && last >= 1 && (passes..=passes + 1).contains(&(first + last)),
        "{first} + {last} of {passes}"
    );
    assert_eq!(report.raw.rss.len(), passes);
}

#[test]
fn bench_outputs_are_checked_before_the_run_and_bad_numbers_refused() {
    // Issue 11: --plot/--json paths were checked only after the whole run (plot errors exit 6, a --json failure
    // "cannot read" with exit 3); --gap-ms 4294967295 aborted on a 275 GB allocation.
    let dir = scratch_dir("bench_outputs");
    let manifest = one_question(&dir);
    let m = manifest.to_str().unwrap();
    let nowhere = dir.join("no/such/folder/run.json");
    let folder = dir.to_str().unwrap();
    for (flag, path) in [
        ("--json", nowhere.to_str().unwrap()),
        ("--plot", &format!("{folder}/missing/p.svg")),
        ("--json", folder),
    ] {
        let started = std::time::Instant::now();
        let o = earshot(&["bench", m, "--fast", flag, path]);
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(8), "{flag} {path}: {stderr}");
        assert!(stderr.contains("cannot write"), "{stderr}");
        assert!(
            text(&o.stdout).is_empty(),
            "no run before the check: {}",
            text(&o.stdout)
        );
        assert!(started.elapsed().as_secs_f64() < 5.0);
    }
    for gap in ["4294967295", "60001"] {
        let o = earshot(&["bench", m, "--fast", "--gap-ms", gap]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("--gap-ms"), "{}", text(&o.stderr));
    }
    for soak in ["0", "-1", "inf", "NaN", "1e9"] {
        let o = earshot(&["bench", m, "--soak", soak]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "--soak {soak}: {}",
            text(&o.stderr)
        );
    }
}

#[test]
fn bench_metrics_refuse_nonsense() {
    // Issue 11: all-empty references gave WER 1700 %; --compare took negative RSS; a WAV as a report or corpus.
    let dir = scratch_dir("bench_nonsense");
    let manifest = dir.join("empty_refs.tsv");
    std::fs::write(&manifest, format!("{}\t\n", speech("q02.wav").display())).unwrap();
    let json = dir.join("run.json");
    let o = earshot(&[
        "bench",
        manifest.to_str().unwrap(),
        "--fast",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        BenchReport::load(&json).unwrap().results.wer.is_none(),
        "no reference words: no WER"
    );
    let report = std::fs::read_to_string(&json).unwrap();
    let negative = dir.join("negative.json");
    let at = report.find("\"peak_rss_mb\":").unwrap();
    let end = at + report[at..].find(',').unwrap();
    std::fs::write(
        &negative,
        format!("{}\"peak_rss_mb\": -5.0{}", &report[..at], &report[end..]),
    )
    .unwrap();
    let o = earshot(&[
        "bench",
        "--compare",
        json.to_str().unwrap(),
        negative.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("peak RSS MB is -5"),
        "{}",
        text(&o.stderr)
    );
    let wav = speech("q02.wav");
    let o = earshot(&[
        "bench",
        "--compare",
        json.to_str().unwrap(),
        wav.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("is a WAV file, not an earshot bench report"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn ctrl_c_during_a_soak_still_writes_the_report() {
    let dir = scratch_dir("bench_soak_interrupted");
    let manifest = one_question(&dir);
    let json = dir.join("soak.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args([
            "bench",
            manifest.to_str().unwrap(),
            "--soak",
            "600",
            "--json",
            json.to_str().unwrap(),
        ])
        .current_dir(crate::common::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(4));
    assert!(std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("interrupted after"),
        "{}",
        text(&o.stderr)
    );
    assert!(text(&o.stdout).contains("soak: RSS"), "{}", text(&o.stdout));
    let report = BenchReport::load(&json).unwrap();
    assert!(report.run.audio_s > 5.0 && report.run.audio_s < 36_000.0);
    assert!(report
        .raw
        .clips
        .iter()
        .any(|c| c.hypothesis.contains("train station")));
}

#[test]
fn a_manifest_header_may_name_path_and_reference_and_start_with_a_bom() {
    let dir = scratch_dir("bench_header");
    let manifest = dir.join("with_header.tsv");
    let body = format!(
        "\u{feff}path\treference\n{}\tHow far is it from here to the train station?\n",
        speech("q02.wav").display()
    );
    std::fs::write(&manifest, body).unwrap();
    let json = dir.join("run.json");
    let o = earshot(&[
        "bench",
        manifest.to_str().unwrap(),
        "--fast",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let report = BenchReport::load(&json).unwrap();
    assert_eq!(report.run.clips, 1);
    assert!(report.results.wer.is_some_and(|w| w.percent < 20.0));
}

/// Issue 29: a manifest's `pause` column gives each paused sentence's pause; the bench counts the sentences a final
/// cut inside it. The paused fixture ("Remind me to ... renew my passport on Thursday", a 1.1 s pause): the text
/// detector keeps it whole, the 600 ms silence rule cuts it.
#[test]
fn a_pause_column_counts_the_sentences_cut_inside_their_pause() {
    let dir = scratch_dir("bench_pause");
    let manifest = crate::common::root().join("tests/fixtures/turns/manifest.tsv");
    for (detector, cut) in [("text", 0), ("silence", 1)] {
        let json = dir.join(format!("{detector}.json"));
        let o = earshot(&[
            "bench",
            manifest.to_str().unwrap(),
            "--fast",
            "--end-of-turn",
            detector,
            "--json",
            json.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let table = text(&o.stdout);
        let line = format!("({cut} of 1 sentences with a pause ended inside it)");
        assert!(
            table.contains(&line),
            "{detector}: {line} missing from:\n{table}"
        );
        let report = BenchReport::load(&json).unwrap();
        let counted = report.results.cut_in_pause.unwrap();
        assert_eq!((counted.clips, counted.cut), (1, cut), "{detector}");
        let clip = &report.raw.clips[0];
        assert_eq!(clip.cut_in_pause, Some(cut == 1), "{detector}");
        let (start, end) = clip.pause_s.unwrap();
        assert!(
            (start - clip.start_s - 1.34).abs() < 1e-9 && (end - clip.start_s - 2.47).abs() < 1e-9
        );
    }
}
