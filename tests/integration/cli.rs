//! `earshot transcribe` as a user runs it: output formats, and clear errors with documented exit codes.

use std::process::{Command, Output};

use crate::common::{earshot, root, speech};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn text_json_srt_and_vtt_outputs() {
    let file = speech("long02.wav");
    let file = file.to_str().unwrap();
    let text = earshot(&["transcribe", file]);
    assert!(text.status.success(), "{}", stderr(&text));
    assert!(
        stdout(&text).contains("the new bridge would carry twice as many cars"),
        "{}",
        stdout(&text)
    );
    assert!(
        stderr(&text).contains("RTF"),
        "summary line missing: {}",
        stderr(&text)
    );

    let json = earshot(&["transcribe", "--format", "json", "-q", file]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let segments = v["segments"].as_array().unwrap();
    assert!(!segments.is_empty());
    assert!(segments[0]["start_s"].as_f64().unwrap() < segments[0]["end_s"].as_f64().unwrap());
    assert!(v["audio_s"].as_f64().unwrap() > 5.0);
    assert!(
        stderr(&json).is_empty(),
        "-q must silence the summary: {}",
        stderr(&json)
    );

    let srt = stdout(&earshot(&["transcribe", "--format", "srt", "-q", file]));
    assert!(srt.starts_with("1\n00:00:0"), "{srt}");
    assert!(srt.lines().nth(1).unwrap().contains(" --> "));
    let vtt = stdout(&earshot(&["transcribe", "--format", "vtt", "-q", file]));
    assert!(vtt.starts_with("WEBVTT\n\n00:00:0"), "{vtt}");
}

#[test]
fn output_dir_gets_one_file_per_input_and_beam_and_threads_apply() {
    let dir = std::env::temp_dir().join(format!("earshot-cli-{}", std::process::id()));
    let a = speech("q01.wav");
    let b = speech("cmd04_44100hz.wav");
    let o = earshot(&[
        "transcribe",
        "-q",
        "--beam",
        "3",
        "--threads",
        "1",
        "--format",
        "srt",
        "-o",
        dir.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(dir.join("q01.srt"))
        .unwrap()
        .contains("library"));
    assert!(std::fs::read_to_string(dir.join("cmd04_44100hz.srt"))
        .unwrap()
        .contains("sister"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_say_what_is_wrong_with_documented_exit_codes() {
    let missing = earshot(&["transcribe", "no/such/file.wav"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(
        stderr(&missing).contains("no/such/file.wav"),
        "{}",
        stderr(&missing)
    );

    let not_wav = earshot(&["transcribe", "Cargo.toml"]);
    assert_eq!(not_wav.status.code(), Some(3));
    assert!(
        stderr(&not_wav).contains("not a readable WAV file"),
        "{}",
        stderr(&not_wav)
    );

    let bad_profile = earshot(&["transcribe", "--profile", "nonexistent", "x.wav"]);
    assert_eq!(bad_profile.status.code(), Some(6));
    assert!(
        stderr(&bad_profile).contains("earshot profiles"),
        "{}",
        stderr(&bad_profile)
    );

    let bad_beam = earshot(&["transcribe", "--beam", "0", "x.wav"]);
    assert_eq!(bad_beam.status.code(), Some(6));
    assert!(
        stderr(&bad_beam).contains("decode.beam_size = 0"),
        "{}",
        stderr(&bad_beam)
    );

    let bad_model = earshot(&[
        "transcribe",
        "--model",
        "tests",
        speech("q01.wav").to_str().unwrap(),
    ]);
    assert_eq!(bad_model.status.code(), Some(4));
    assert!(
        stderr(&bad_model).contains("no model.toml"),
        "{}",
        stderr(&bad_model)
    );

    let usage = earshot(&["transcribe"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn a_bad_file_among_good_ones_keeps_the_good_transcripts() {
    let good = speech("q03.wav");
    let o = earshot(&["transcribe", "-q", "no/such.wav", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stdout(&o).contains("remind me to buy milk"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn missing_onnx_runtime_library_says_how_to_install_it() {
    let o = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(["transcribe", speech("q01.wav").to_str().unwrap()])
        .current_dir(root())
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so.1.31.1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains(".ci/setup"), "{}", stderr(&o));
}

#[test]
fn profiles_lists_the_firmware_configs() {
    let o = earshot(&["profiles"]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("default") && stdout(&o).contains("accurate"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn every_shipped_device_profile_is_valid_and_named_after_its_file() {
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("firmware-configs")).unwrap() {
        let path = entry.unwrap().path();
        let profile = earshot::Profile::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Some(profile.name.as_str()),
            path.file_stem().and_then(|s| s.to_str()),
            "{}",
            path.display()
        );
        count += 1;
    }
    assert!(count >= 7, "{count} profiles");
}
