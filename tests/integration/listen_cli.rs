//! `earshot listen` as a user runs it: replayed files, raw PCM on stdin, recordings, signals, and the real cpal path
//! through an ALSA `file`-plugin capture device (no sound card, no daemon).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{build_c_library, read_wav_mono, root, speech};

fn earshot() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_earshot"));
    c.current_dir(root());
    c
}

fn events(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn final_texts(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == "final")
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn replay_json_events_and_a_recording_of_exactly_the_captured_audio() {
    let dir = std::env::temp_dir().join(format!("earshot-listen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let recording = dir.join("rec.wav");
    let o = earshot()
        .args([
            "listen",
            "--fast",
            "--json",
            "--replay",
            speech("cmd04_44100hz.wav").to_str().unwrap(),
        ])
        .args(["--record", recording.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ev = events(&String::from_utf8_lossy(&o.stdout));
    assert!(ev.iter().any(|e| e["event"] == "partial"), "partials");
    assert_eq!(
        final_texts(&ev),
        ["Call my sister and tell her I will be late."]
    );
    let endpoint = ev.iter().find(|e| e["event"] == "endpoint").unwrap();
    assert_eq!(endpoint["rule"], "end_of_input");
    // The recording holds exactly the samples that were captured (the file's, downmixed to mono).
    let (want, rate) = read_wav_mono(&speech("cmd04_44100hz.wav"));
    let (got, got_rate) = read_wav_mono(&recording);
    assert_eq!((got.len(), got_rate), (want.len(), rate));
    assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn raw_pcm_on_stdin_including_a_stream_that_ends_mid_sample() {
    let (samples, _) = read_wav_mono(&speech("q03.wav"));
    let mut bytes: Vec<u8> = samples
        .iter()
        .flat_map(|&s| ((s * 32767.0) as i16).to_le_bytes())
        .collect();
    bytes.push(0x7f); // half a sample
    let mut child = earshot()
        .args([
            "listen",
            "--stdin",
            "--rate",
            "16000",
            "--channels",
            "1",
            "--format",
            "s16le",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "Can you remind me to buy milk tomorrow morning?"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("ended mid-frame; the last 1 byte(s)"));
}

#[test]
fn sigint_and_sigterm_flush_the_last_final_and_leave_a_valid_recording() {
    for signal in ["INT", "TERM"] {
        let recording =
            std::env::temp_dir().join(format!("earshot-sig{signal}-{}.wav", std::process::id()));
        // Real-time replay of a long sentence; interrupt it in the middle.
        let mut child = earshot()
            .args([
                "listen",
                "--json",
                "--replay",
                speech("long05.wav").to_str().unwrap(),
                "--record",
                recording.to_str().unwrap(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait for the first partial: speech is being heard.
        let first = lines.next().unwrap().unwrap();
        assert!(first.contains("\"partial\""), "{first}");
        std::thread::sleep(Duration::from_millis(1500));
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args([format!("-{signal}").as_str(), &pid])
            .status()
            .unwrap()
            .success());
        let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
        let status = child.wait().unwrap();
        assert!(status.success(), "SIG{signal}: exit {status:?}");
        let ev = events(&rest.join("\n"));
        let finals = final_texts(&ev);
        assert_eq!(finals.len(), 1, "SIG{signal}: {rest:?}");
        // The flushed final of a cut segment is unsure, so it may take the beam, which can write "if" for "If".
        assert!(
            finals[0]
                .to_lowercase()
                .starts_with("if the battery runs low"),
            "SIG{signal}: {finals:?}"
        );
        let (audio, rate) = read_wav_mono(&recording);
        let seconds = audio.len() as f64 / f64::from(rate);
        assert!(
            (1.0..7.0).contains(&seconds),
            "SIG{signal}: recording holds {seconds:.2} s"
        );
        std::fs::remove_file(&recording).unwrap();
    }
}

#[test]
fn a_full_disk_while_recording_is_an_error_and_leaves_a_valid_wav() {
    // A 100 KiB file-size limit stands in for a full disk: writes beyond it fail (EFBIG; SIGXFSZ is ignored), the
    // way they fail with ENOSPC. 32-bit float mono at 16 kHz is 64 KB per second, so about 1.5 s fit.
    let recording = std::env::temp_dir().join(format!("earshot-full-{}.wav", std::process::id()));
    let o = Command::new("bash")
        .args([
            "-c",
            "trap '' XFSZ; ulimit -f 100; exec \"$@\"",
            "earshot",
            env!("CARGO_BIN_EXE_earshot"),
            "listen",
            "--replay",
            speech("long05.wav").to_str().unwrap(),
            "--record",
            recording.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("recording failed") && stderr.contains("disk full"),
        "{stderr}"
    );
    // Transcription went on: the whole sentence is there.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("If the battery runs low"), "{stdout}");
    // The file is a valid WAV: every sample its header announces is there.
    let mut reader = hound::WavReader::open(&recording).unwrap();
    let announced = reader.duration() as usize;
    let samples: Vec<f32> = reader.samples::<f32>().map(|s| s.unwrap()).collect();
    assert_eq!(samples.len(), announced);
    assert!(announced >= 8_000, "only {announced} samples were kept");
    assert!(std::fs::metadata(&recording).unwrap().len() <= 100 * 1024);
    std::fs::remove_file(&recording).unwrap();
}

/// An ALSA configuration whose default PCM is the `file` plugin reading `infile` (over the null device).
fn alsa_file_device(infile: &std::path::Path) -> std::path::PathBuf {
    let conf = infile.with_extension("conf");
    let text = format!(
        "pcm.!default {{\n type file\n slave.pcm \"earshot_null\"\n file \"/dev/null\"\n infile \"{}\"\n format \"raw\"\n}}\npcm.earshot_null {{\n type null\n}}\n",
        infile.display()
    );
    std::fs::write(&conf, text).unwrap();
    conf
}

/// Write what the `file` device delivers, in the format cpal opens it (48 kHz stereo f32le, read off `earshot listen`'s
/// banner): 1 s of silence, the sentence "Play some quiet music in the living room.", `trailing_ms` of silence, then
/// `then_ms` more. Returns the frames up to the end of the trailing silence.
fn write_sentence_capture(infile: &std::path::Path, trailing_ms: usize, then_ms: usize) -> usize {
    let (speech_16k, _) = read_wav_mono(&speech("cmd05.wav"));
    let mut mono: Vec<f32> = vec![0.0; 48000];
    mono.extend(speech_16k.iter().flat_map(|&s| [s, s, s])); // 16 kHz -> 48 kHz by sample repetition
    mono.extend(vec![0.0; 48 * trailing_ms]);
    let frames = mono.len();
    mono.extend(vec![0.0; 48 * then_ms]);
    let bytes: Vec<u8> = mono
        .iter()
        .flat_map(|&s| [s, s])
        .flat_map(|s| s.to_le_bytes())
        .collect();
    std::fs::write(infile, bytes).unwrap();
    frames
}

#[test]
fn the_real_cpal_path_transcribes_from_an_alsa_file_capture_device() {
    let dir = std::env::temp_dir().join(format!("earshot-alsa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The device delivers what the file holds in the format cpal opens (read off `earshot listen`'s banner):
    // silence, the sentence, then silence long enough for rule 1 to close the segment.
    let infile = dir.join("capture.raw");
    let conf = alsa_file_device(&infile);
    // The file is longer than what is read before we stop.
    write_sentence_capture(&infile, 3000, 30_000);
    let mut child = earshot()
        .args(["listen", "--json", "--ring-frames", "100000"])
        .env("ALSA_CONFIG_PATH", &conf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut finals = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("\"final\"") {
            finals.push(line);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no final within 60 s"
        );
    }
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let _: Vec<_> = lines.collect();
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("Default Audio Device (2 ch, 48000 Hz, f32)"),
        "{stderr}"
    );
    let ev = events(&finals.join("\n"));
    assert_eq!(
        final_texts(&ev),
        ["Play some quiet music in the living room."],
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unavailable_input_device_is_a_clear_error_with_exit_code_7() {
    let conf = std::env::temp_dir().join(format!("earshot-nodev-{}.conf", std::process::id()));
    std::fs::write(&conf, "pcm.!default {\n type hw\n card 99\n}\n").unwrap();
    let o = earshot()
        .args(["listen"])
        .env("ALSA_CONFIG_PATH", &conf)
        .output()
        .unwrap();
    std::fs::remove_file(&conf).unwrap();
    assert_eq!(
        o.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("audio device") && stderr.contains("earshot devices"),
        "{stderr}"
    );
}

/// An `LD_PRELOAD` library (built here with the system C compiler) that makes ALSA's `snd_pcm_readi` fail with
/// ENODEV, as a USB microphone's driver does when it is unplugged, once `EARSHOT_TEST_FRAMES` frames were read.
/// The audio up to then is real: the ALSA `file` plugin plays it through cpal into earshot.
fn unplug_after_frames(dir: &std::path::Path) -> std::path::PathBuf {
    build_c_library(
        dir,
        "libunplug.so",
        "#define _GNU_SOURCE\n#include <dlfcn.h>\n#include <errno.h>\n#include <stdlib.h>\n\
         typedef long (*readi_fn)(void *, void *, unsigned long);\n\
         static long delivered;\n\
         long snd_pcm_readi(void *pcm, void *buffer, unsigned long size) {\n\
           static readi_fn real;\n\
           if (!real) real = (readi_fn)dlsym(RTLD_NEXT, \"snd_pcm_readi\");\n\
           const char *limit = getenv(\"EARSHOT_TEST_FRAMES\");\n\
           if (limit && delivered >= atol(limit)) return -ENODEV;\n\
           long n = real(pcm, buffer, size);\n\
           if (n > 0) delivered += n;\n\
           return n;\n\
         }\n",
    )
}

#[test]
fn a_microphone_unplugged_mid_stream_flushes_what_was_heard_and_exits_7() {
    let dir = std::env::temp_dir().join(format!("earshot-unplug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let infile = dir.join("capture.raw");
    let conf = alsa_file_device(&infile);
    // 1 s of silence, the sentence, 0.3 s of silence (shorter than the endpoint rule): the device is lost while the
    // segment is still open, so only the flush can produce the final.
    // The file goes on for 10 s more; the unplug comes first.
    let frames = write_sentence_capture(&infile, 300, 10_000);
    let o = earshot()
        .args(["listen", "--json", "--ring-frames", "100000"])
        .env("ALSA_CONFIG_PATH", &conf)
        .env("LD_PRELOAD", unplug_after_frames(&dir))
        .env("EARSHOT_TEST_FRAMES", frames.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("input lost mid-stream"), "{stderr}");
    let ev = events(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(
        final_texts(&ev),
        ["Play some quiet music in the living room."],
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn listen_json_into_a_closed_pipe_exits_0_like_head_expects() {
    // `earshot listen --json | head -1`: the reader goes away; the broken pipe ends the run quietly with exit 0.
    let mut child = earshot()
        .args(["listen", "--replay"])
        .arg(speech("long02.wav"))
        .args(["--fast", "--json", "-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // close the read end before the first event
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

/// 16-bit little-endian mono PCM of `samples` (the `--stdin` default format).
fn s16le(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
        .collect()
}

/// The corpus's 16 kHz speech clips back to back, 1 s of silence after each: (samples, references).
fn corpus_stream(max_clips: usize) -> (Vec<f32>, Vec<String>) {
    let mut samples = Vec::new();
    let mut references = Vec::new();
    for clip in crate::common::corpus() {
        if clip.kind != "speech" || references.len() == max_clips {
            continue;
        }
        let (audio, rate) = read_wav_mono(&speech(&clip.file));
        if rate != 16_000 {
            continue;
        }
        samples.extend(audio);
        samples.extend(std::iter::repeat_n(0.0, 16_000));
        references.push(clip.text);
    }
    (samples, references)
}

fn wer(references: &[String], hypotheses: &[String]) -> f64 {
    use earshot::bench::wer::{edit_distance, normalize};
    let reference = normalize(&references.join(" "));
    let hypothesis = normalize(&hypotheses.join(" "));
    edit_distance(&reference, &hypothesis) as f64 / reference.len() as f64
}

#[test]
fn stdin_faster_than_real_time_loses_no_audio() {
    // Issue 11: `cat corpus.raw | earshot listen --stdin` dropped most of the audio (9-13 finals of 30, 10.5 s of
    // 165 s counted). A pipe can wait: the reader applies backpressure and every clip is transcribed.
    let (samples, references) = corpus_stream(30);
    assert!(references.len() >= 25, "{} clips", references.len());
    let seconds = samples.len() as f64 / 16_000.0;
    let mut child = earshot()
        .args(["listen", "--stdin", "--rate", "16000", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = s16le(&samples);
    let writer = std::thread::spawn(move || stdin.write_all(&bytes).unwrap());
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let ev = events(&String::from_utf8_lossy(&o.stdout));
    assert!(
        ev.iter().all(|e| e["event"] != "audio_lost"),
        "audio lost: {stderr}"
    );
    assert!(
        stderr.contains(&format!("{seconds:.1} s of audio"))
            && stderr.contains("0 frame(s) dropped by the ring, 0 oldest"),
        "{stderr}"
    );
    let finals = final_texts(&ev);
    let error = wer(&references, &finals);
    assert!(
        finals.len() >= references.len() && error < 0.12,
        "{} finals for {} clips, WER {error:.3}: {finals:?}",
        finals.len(),
        references.len()
    );
}

fn signal(child: &std::process::Child, name: &str) {
    assert!(Command::new("kill")
        .args([format!("-{name}").as_str(), &child.id().to_string()])
        .status()
        .unwrap()
        .success());
}

/// Wait up to `limit` for the child to exit.
fn exits_within(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

#[test]
fn a_signal_while_stdin_is_idle_ends_the_run_and_flushes_what_was_heard() {
    // Issue 11: `(cat q02.raw; sleep 100) | earshot listen --stdin`, then SIGINT: still running, final never printed.
    for name in ["INT", "TERM"] {
        let (audio, _) = read_wav_mono(&speech("q02.wav"));
        let mut child = earshot()
            .args(["listen", "--stdin", "--rate", "16000", "--json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&s16le(&audio)).unwrap(); // no trailing silence: the segment stays open
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        assert!(first.contains("\"partial\""), "{first}");
        std::thread::sleep(Duration::from_millis(500));
        signal(&child, name);
        // It ends (before: it waited for the idle pipe forever); the bound is loose because CI machines are shared.
        let status = exits_within(&mut child, Duration::from_secs(5));
        drop(stdin);
        let rest: Vec<String> = lines.map_while(|l| l.ok()).collect();
        assert!(status.is_some_and(|s| s.success()), "SIG{name}: {status:?}");
        let finals = final_texts(&events(&rest.join("\n")));
        assert_eq!(finals.len(), 1, "SIG{name}: {rest:?}");
        assert!(finals[0].contains("train station"), "SIG{name}: {finals:?}");
    }
}

#[test]
fn a_signal_while_replay_waits_for_a_fifo_writer_ends_the_run() {
    let dir = crate::common::scratch_dir("fifo-replay");
    let fifo = dir.join("input.wav");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let mut child = earshot()
        .args(["listen", "--replay", fifo.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500)); // the model loads; the FIFO has no writer
    signal(&child, "TERM");
    let status = exits_within(&mut child, Duration::from_secs(5));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let o = child.wait_with_output().unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("stopped before the input opened"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn record_onto_the_input_is_refused_and_the_input_kept() {
    // Issue 11: `listen --replay X.wav --fast --record X.wav` replaced the 284 KB input with a 16 KB recording.
    let dir = crate::common::scratch_dir("record-onto-input");
    let input = dir.join("x.wav");
    std::fs::copy(speech("q02.wav"), &input).unwrap();
    let link = dir.join("other-name.wav");
    std::fs::hard_link(&input, &link).unwrap();
    let before = std::fs::read(&input).unwrap();
    for (record, force) in [(&input, false), (&link, true)] {
        let mut args = vec![
            "listen",
            "--replay",
            input.to_str().unwrap(),
            "--fast",
            "--record",
            record.to_str().unwrap(),
        ];
        if force {
            args.push("--force");
        }
        let o = earshot().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains("is the input being read"), "{stderr}");
        assert_eq!(
            std::fs::read(&input).unwrap(),
            before,
            "the input was changed"
        );
    }
    // Raw PCM on stdin from a file, recorded onto that same file.
    let raw = dir.join("x.raw");
    std::fs::write(&raw, s16le(&read_wav_mono(&speech("q02.wav")).0)).unwrap();
    let o = earshot()
        .args([
            "listen",
            "--stdin",
            "--rate",
            "16000",
            "--record",
            raw.to_str().unwrap(),
            "--force",
        ])
        .stdin(std::fs::File::open(&raw).unwrap())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn record_never_truncates_an_existing_file_without_force() {
    let dir = crate::common::scratch_dir("record-existing");
    let keep = dir.join("notes.wav");
    std::fs::write(&keep, "somebody's data").unwrap();
    let replay = [
        "listen",
        "--replay",
        "tests/fixtures/speech/q02.wav",
        "--fast",
        "--record",
    ];
    let o = earshot().args(replay).arg(&keep).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "somebody's data");
    // With --force it is replaced by a recording of the whole input.
    let o = earshot()
        .args(replay)
        .arg(&keep)
        .arg("--force")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (recorded, _) = read_wav_mono(&keep);
    assert_eq!(recorded.len(), read_wav_mono(&speech("q02.wav")).0.len());
    // A FIFO is not a file a recording can finalize: refused before anything runs.
    let fifo = dir.join("rec.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let o = earshot().args(replay).arg(&fifo).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

#[test]
fn ring_frames_out_of_range_is_a_usage_error_naming_the_flag() {
    // Issue 11: 0 transcribed nothing with exit 0; 10^12 aborted; u64::MAX panicked inside the ring library.
    for value in ["0", "99", "1000000000000", "18446744073709551615"] {
        let o = earshot()
            .args([
                "listen",
                "--replay",
                "tests/fixtures/speech/q02.wav",
                "--fast",
                "--ring-frames",
                value,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{value}: {stderr}");
        assert!(
            stderr.contains("--ring-frames") && stderr.contains("100..=1000000"),
            "{value}: {stderr}"
        );
    }
}

#[test]
fn listen_flags_that_do_not_apply_and_a_full_stdout_are_named() {
    // Issue 11: --replay silently ignored --rate/--channels/--format; a full stdout was not named.
    for flags in [
        ["--rate", "8000"],
        ["--channels", "2"],
        ["--format", "f32le"],
    ] {
        let o = earshot()
            .args([
                "listen",
                "--replay",
                "tests/fixtures/speech/q02.wav",
                "--fast",
            ])
            .args(flags)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(
            stderr.contains("'--replay <REPLAY>' cannot be used with"),
            "{flags:?}: {stderr}"
        );
    }
    let o = earshot()
        .args([
            "listen",
            "--replay",
            "tests/fixtures/speech/q02.wav",
            "--fast",
            "--json",
        ])
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(8), "{stderr}");
    assert!(
        stderr.contains("cannot write standard output: No space left"),
        "{stderr}"
    );
}

#[test]
fn a_signal_ends_listen_while_its_term_list_is_a_fifo_nobody_opens() {
    // Issue 27: blocked opening a FIFO term file (or model file), `listen` ignored SIGINT and SIGTERM: only SIGKILL
    // ended it.
    let dir = crate::common::scratch_dir("listen-fifo");
    let fifo = dir.join("terms.fifo");
    let _ = std::fs::remove_file(&fifo);
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for signal in ["-INT", "-TERM"] {
        let mut child = earshot()
            .args(["listen", "--stdin", "--rate", "16000", "--vocabulary-file"])
            .arg(&fifo)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_secs(2));
        assert!(Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap()
            .success());
        let sent = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if sent.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("{signal}: still running 10 s after the signal");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert!(status.success(), "{signal}: {status:?} {err}");
        assert!(err.contains("stopped while setting up"), "{signal}: {err}");
    }
}

/// Run `command` in a pseudo-terminal of `columns` x 40 (util-linux `script`, TERM=xterm-256color plus `env`); the
/// screen it leaves (a vt100 emulator) and the raw bytes.
fn on_terminal(columns: u16, env: &str, command: &str) -> (vt100::Parser, Vec<u8>) {
    let o = Command::new("script")
        .args([
            "-qfec",
            &format!("stty cols {columns} rows 40; {env} {command}"),
            "/dev/null",
        ])
        .env("TERM", "xterm-256color")
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut parser = vt100::Parser::new(40, columns, 0);
    parser.process(&o.stdout);
    (parser, o.stdout)
}

#[test]
fn a_long_partial_stays_one_clean_row_and_the_final_is_printed_once() {
    // Issue 33: past the terminal's width the partial wrapped, and every rewrite left its first row behind (ten
    // copies of the sentence on the screen), with the dim style leaking into the next rows.
    let final_text = "The engineer explained that the new bridge would carry twice as many cars as the old one, \
                      while using less steel and costing much less to maintain.";
    let command = format!(
        "{} listen --replay tests/fixtures/speech/long02.wav -q",
        env!("CARGO_BIN_EXE_earshot")
    );
    for columns in [60u16, 200] {
        let (screen, bytes) = on_terminal(columns, "", &command);
        let rows: Vec<String> = screen.screen().rows(0, columns).collect();
        let used: Vec<&String> = rows.iter().filter(|r| !r.trim().is_empty()).collect();
        // Only the final is left, once, on as many rows as it needs.
        let contents = screen.screen().contents();
        assert_eq!(
            contents.matches("maintain.").count(),
            1,
            "{columns}: {contents}"
        );
        assert_eq!(
            contents.replace('\n', "").trim(),
            final_text,
            "{columns}: {contents}"
        );
        assert_eq!(
            used.len(),
            final_text.len().div_ceil(usize::from(columns)),
            "{columns}: {used:?}"
        );
        // Partials were drawn (dim tentative text), and every style was reset.
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("\x1b[2m"), "{columns}: no partial was drawn");
        assert!(!screen.screen().cell(39, 0).unwrap().dim(), "{columns}");
        assert!(
            text.rfind("\x1b[2m") < text.rfind("\x1b[0m"),
            "{columns}: a style left open"
        );
    }
    // NO_COLOR: plain text; TERM=dumb: finals only, no escape codes at all.
    let (_, plain) = on_terminal(60, "NO_COLOR=1", &command);
    let plain = String::from_utf8_lossy(&plain);
    assert!(
        !plain.contains("\x1b[2m") && plain.contains('\r'),
        "{plain:?}"
    );
    let (_, dumb) = on_terminal(60, "TERM=dumb", &command);
    let dumb = String::from_utf8_lossy(&dumb);
    assert!(!dumb.contains('\x1b'), "{dumb:?}");
    assert_eq!(dumb.trim(), final_text);
}

/// `earshot listen --fast --json -q ARGS --replay` on the paused fixture (tests/fixtures/turns/paused.wav: a 1.1 s
/// pause after "Remind me to", made by benches/turns/make_turns.py --fixture).
fn listen_paused(args: &[&str]) -> std::process::Output {
    earshot()
        .args(["listen", "--fast", "--json", "-q"])
        .args(args)
        .arg("--replay")
        .arg(root().join("tests/fixtures/turns/paused.wav"))
        .output()
        .unwrap()
}

/// Issue 29: a 1.1 s pause after "Remind me to" (tests/fixtures/turns/paused.wav, made by benches/turns/make_turns.py
/// --fixture). The text detector hears the dangling "to", waits, and ends the turn 200 ms after the sentence's end;
/// the silence rule splits the sentence at the pause.
#[test]
fn the_text_detector_keeps_a_paused_sentence_whole_and_ends_it_at_the_check() {
    let run = |detector: &str| {
        let o = listen_paused(&["--end-of-turn", detector]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        events(&String::from_utf8_lossy(&o.stdout))
    };
    let text = run("text");
    let finals = final_texts(&text);
    assert_eq!(finals.len(), 1, "{finals:?}");
    let words = earshot::bench::wer::normalize(&finals[0]);
    assert_eq!(
        words.join(" "),
        "remind me to renew my passport on thursday",
        "{finals:?}"
    );
    let endpoints: Vec<&serde_json::Value> =
        text.iter().filter(|e| e["event"] == "endpoint").collect();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0]["rule"], "turn_complete");
    // Decided 200 ms after the last speech frame: the segment keeps 150 ms of it (end_s), the check waits 50 more.
    let waited =
        endpoints[0]["decided_s"].as_f64().unwrap() - endpoints[0]["end_s"].as_f64().unwrap();
    assert!((waited - 0.05).abs() < 0.015, "{:?}", endpoints[0]);

    let silence = run("silence");
    let finals = final_texts(&silence);
    assert_eq!(
        finals.len(),
        2,
        "the 600 ms rule ends the turn inside the pause: {finals:?}"
    );
    assert!(silence
        .iter()
        .filter(|e| e["event"] == "endpoint")
        .all(|e| e["rule"] == "trailing_silence"));
}

/// The waits from the command line: the same paused fixture (a 1.1 s pause after "Remind me to") stays one turn
/// under the silence rule when it waits 1.5 s, and is split by the text detector when an unfinished sentence may
/// wait only 0.8 s; a wait out of range is an error that names it.
#[test]
fn the_end_of_turn_waits_can_be_set_on_the_command_line() {
    let finals_of = |args: &[&str]| {
        let o = listen_paused(args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        final_texts(&events(&String::from_utf8_lossy(&o.stdout)))
    };
    let finals = finals_of(&["--end-of-turn", "silence", "--trailing-silence-ms", "1500"]);
    assert_eq!(finals.len(), 1, "a 1.5 s wait keeps the pause: {finals:?}");
    let finals = finals_of(&["--end-of-turn", "text", "--incomplete-wait-ms", "800"]);
    assert_eq!(
        finals.len(),
        2,
        "a 0.8 s wait ends inside the pause: {finals:?}"
    );

    let o = listen_paused(&["--end-of-turn", "text", "--turn-check-ms", "20"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(stderr.contains("turn_check_ms"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
