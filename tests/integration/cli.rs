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

    // A flag out of range is bad usage, refused before the model loads.
    let bad_beam = earshot(&["transcribe", "--beam", "0", "x.wav"]);
    assert_eq!(bad_beam.status.code(), Some(2));
    assert!(
        stderr(&bad_beam).contains("--beam") && stderr(&bad_beam).contains("1..=16"),
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

fn run_in_shell(script: &str, args: &[&std::ffi::OsStr]) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("earshot")
        .arg(env!("CARGO_BIN_EXE_earshot"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

#[test]
fn output_dir_write_failures_keep_the_batch_going_and_the_text() {
    // Issue 11: one write failure (DIR/q02.txt a directory, ENOSPC, ...) aborted the batch: later files never
    // transcribed, no summary, the failing file's text written nowhere.
    let dir = crate::common::scratch_dir("out-fail");
    std::fs::create_dir_all(dir.join("q02.txt")).unwrap();
    let files = [speech("q01.wav"), speech("q02.wav"), speech("q03.wav")];
    let mut args = vec!["transcribe", "-o", dir.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let o = earshot(&args);
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("q02.txt") && stderr(&o).contains("3 file(s), 1 failed"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("train station"),
        "q02's text on stdout: {}",
        stdout(&o)
    );
    for name in ["q01.txt", "q03.txt"] {
        assert!(
            !std::fs::read_to_string(dir.join(name))
                .unwrap()
                .trim()
                .is_empty(),
            "{name}"
        );
    }
}

#[test]
fn output_files_are_replaced_atomically_and_a_failed_write_keeps_the_old_one() {
    // Issue 11: a kill or ENOSPC during the write left a 0-byte file in place of a good earlier one. A 1 KiB file-size
    // limit stands in for the full disk (writes past it fail with EFBIG).
    let dir = crate::common::scratch_dir("out-atomic");
    let good = dir.join("long02.json");
    std::fs::write(&good, "the good earlier transcript").unwrap();
    let wav = speech("long02.wav");
    let args: [&std::ffi::OsStr; 7] = [
        "transcribe".as_ref(),
        "-q".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        dir.as_os_str(),
        wav.as_os_str(),
    ];
    let o = run_in_shell("trap '' XFSZ; ulimit -f 1; exec \"$@\"", &args);
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        "the good earlier transcript"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "no temporary file is left behind: {left:?}");
    assert!(
        stdout(&o).contains("bridge"),
        "the text still reaches stdout: {}",
        stdout(&o)
    );
}

#[test]
fn a_full_disk_under_both_the_output_folder_and_standard_error_still_gives_the_transcript() {
    // Issue 27: with standard error on the same full disk, the message before the fallback to standard output
    // panicked (exit 101) and the transcript was lost.
    let dir = crate::common::scratch_dir("out-full-stderr");
    let wav = speech("q02.wav");
    let err = dir.join("err.txt");
    let args: [&std::ffi::OsStr; 8] = [
        "transcribe".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        dir.as_os_str(),
        wav.as_os_str(),
        "--".as_ref(),
        err.as_os_str(),
    ];
    let o = run_in_shell(
        // 100 bytes: the error message itself does not fit (prlimit, from util-linux, sets the limit in bytes).
        "trap '' XFSZ; err=\"${@: -1}\"; set -- \"${@:1:$#-2}\"; exec prlimit --fsize=100 \"$@\" 2>\"$err\"",
        &args,
    );
    assert_eq!(o.status.code(), Some(8), "{}", stdout(&o));
    assert!(stdout(&o).contains("train station"), "{}", stdout(&o));
}

#[test]
fn output_names_never_collide_or_replace_an_input() {
    // Issue 11: a/x.wav and b/x.wav both wrote x.txt; two non-UTF-8 names both became \ufffd.txt; a WAV named
    // speech.txt in its own folder was replaced by its transcript.
    use std::os::unix::ffi::OsStrExt;
    let dir = crate::common::scratch_dir("out-names");
    for sub in ["a", "b"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::copy(speech("q01.wav"), dir.join("a/x.wav")).unwrap();
    std::fs::copy(speech("q02.wav"), dir.join("b/x.wav")).unwrap();
    let odd = [
        std::ffi::OsStr::from_bytes(b"\xff.wav"),
        std::ffi::OsStr::from_bytes(b"\xfe.wav"),
    ];
    std::fs::copy(speech("q03.wav"), dir.join(odd[0])).unwrap();
    std::fs::copy(speech("q04.wav"), dir.join(odd[1])).unwrap();
    let disguised = dir.join("speech.txt");
    std::fs::copy(speech("q05.wav"), &disguised).unwrap();
    let wav_bytes = std::fs::read(&disguised).unwrap();
    let inputs = [
        dir.join("a/x.wav"),
        dir.join("b/x.wav"),
        dir.join(odd[0]),
        dir.join(odd[1]),
        disguised.clone(),
    ];
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["transcribe".as_ref(), "-o".as_ref(), dir.as_os_str()];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    let o = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(&args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&disguised).unwrap(),
        wav_bytes,
        "the input named speech.txt is intact"
    );
    let read = |name: &std::ffi::OsStr| std::fs::read_to_string(dir.join(name)).unwrap();
    assert!(
        read("x.txt".as_ref()).contains("library"),
        "{}",
        read("x.txt".as_ref())
    );
    assert!(read("x-2.txt".as_ref()).contains("train station"));
    assert!(
        read(std::ffi::OsStr::from_bytes(b"\xff.txt"))
            != read(std::ffi::OsStr::from_bytes(b"\xfe.txt"))
    );
    assert!(!read("speech-2.txt".as_ref()).trim().is_empty());
    assert!(
        stderr(&o).contains("x-2.txt") && stderr(&o).contains("speech-2.txt"),
        "{}",
        stderr(&o)
    );
}

/// `earshot transcribe FILES` with its standard output closed before it writes anything.
fn transcribe_into_a_closed_stdout(files: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .arg("transcribe")
        .args(files.iter().map(|f| speech(f)))
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_standard_output_is_an_error_not_a_silent_loss() {
    // Issue 11: `transcribe` into a closed stdout discarded the transcript with exit 0.
    let o = transcribe_into_a_closed_stdout(&["long02.wav"]);
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    assert!(stderr(&o).contains("standard output"), "{}", stderr(&o));
}

#[test]
fn a_closed_standard_output_stops_a_batch_after_the_first_file_and_says_so() {
    // `transcribe *.wav | head -1` printed the same error once per file and went on transcribing into nothing.
    let o = transcribe_into_a_closed_stdout(&["cmd01.wav", "cmd02.wav", "cmd03.wav"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(8), "{err}");
    assert_eq!(
        err.matches("cannot write standard output").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("the 2 file(s) after") && err.contains("cmd01.wav were not transcribed"),
        "{err}"
    );
}

#[test]
fn the_progress_bar_fits_the_terminal_and_counts_in_percent() {
    // Issue 33: with a long path in a 100-column terminal the bar wrapped onto a second row, and it counted
    // "819/1509 ds audio".
    let dir = crate::common::scratch_dir("progress")
        .join("a-folder-with-a-rather-long-name-for-the-recordings-of-the-weekly-meeting");
    std::fs::create_dir_all(&dir).unwrap();
    let long = dir.join("the-weekly-meeting-of-the-fifth-of-december.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&long, spec).unwrap();
    for name in [
        "long01.wav",
        "long02.wav",
        "long03.wav",
        "long04.wav",
        "long05.wav",
    ] {
        let (mono, rate) = crate::common::read_wav_mono(&speech(name));
        assert_eq!(rate, 16_000);
        for s in mono {
            writer.write_sample((s * 32767.0) as i16).unwrap();
        }
    }
    writer.finalize().unwrap();
    let o = Command::new("script")
        .args([
            "-qfec",
            &format!(
                "stty cols 100 rows 30; {} transcribe {} > /dev/null",
                env!("CARGO_BIN_EXE_earshot"),
                long.display()
            ),
            "/dev/null",
        ])
        .env("TERM", "xterm-256color")
        .current_dir(root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("% of ") && text.contains(" s audio"),
        "the bar counts in percent of the file's seconds: {text:?}"
    );
    assert!(!text.contains(" ds audio"), "{text:?}");
    assert!(text.contains("…"), "the long path is shortened: {text:?}");
    // Every drawing of the bar fits one row of 100 columns: indicatif never moves up to clear a second row, and clearing
    // it leaves nothing behind.
    assert!(
        !text.contains("\x1b[1A"),
        "the bar wrapped onto a second row: {text:?}"
    );
    let mut parser = vt100::Parser::new(30, 100, 0);
    parser.process(&o.stdout);
    let contents = parser.screen().contents();
    assert!(
        !contents.contains("% of"),
        "the bar left rows behind: {contents}"
    );
    assert!(contents.contains("1 file(s), 0 failed"), "{contents}");
}
