//! Bad input as users hand it over: every case gets a message saying what is wrong (and what to do), a documented
//! exit code and no panic; audio before a damaged spot is still transcribed; odd but valid audio (clipping, DC
//! offset) transcribes; a 2-hour file streams in bounded memory. `cargo test --release bad_input -- --nocapture`
//! prints the tables docs/ROBUSTNESS.md shows.

use std::path::{Path, PathBuf};

use crate::common::{altered_pack, build_c_library, earshot, read_wav_mono, scratch_dir, speech};

/// A canonical 44-byte WAV header followed by `data`.
fn raw_wav(format_tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&format_tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    v.extend_from_slice(&block.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    v
}

fn write_wav(path: &Path, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    samples.iter().for_each(|&s| w.write_sample(s).unwrap());
    w.finalize().unwrap();
}

struct Case {
    name: &'static str,
    file: PathBuf,
    exit: i32,
    says: &'static str,
    /// Words that must still be transcribed (audio before the damage).
    keeps: Option<&'static str>,
}

#[test]
fn bad_inputs_get_clear_errors_and_exit_codes_and_keep_what_was_heard() {
    let dir = scratch_dir("bad_input");
    let put = |name: &str, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let good = std::fs::read(speech("long01.wav")).unwrap();
    let (q04, rate) = read_wav_mono(&speech("q04.wav"));
    let mut nan = q04.clone();
    let at = nan.len() * 9 / 10;
    nan[at] = f32::NAN;
    let nan_path = dir.join("nan.wav");
    write_wav(&nan_path, rate, &nan);
    let mut inf = q04.clone();
    inf[at] = f32::INFINITY;
    let inf_path = dir.join("inf.wav");
    write_wav(&inf_path, rate, &inf);
    let pcm16 = |n: usize| vec![0u8; n * 2];
    let nine = hound::WavSpec {
        channels: 9,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let nine_path = dir.join("nine_channels.wav");
    let mut w = hound::WavWriter::create(&nine_path, nine).unwrap();
    (0..9 * 1600).for_each(|_| w.write_sample(0i16).unwrap());
    w.finalize().unwrap();

    let cases = [
        Case {
            name: "missing file",
            file: dir.join("nope.wav"),
            exit: 3,
            says: "No such file",
            keeps: None,
        },
        Case {
            name: "empty file (0 bytes)",
            file: put("empty.wav", Vec::new()),
            exit: 3,
            says: "empty",
            keeps: None,
        },
        Case {
            name: "truncated header (20 bytes)",
            file: put("header.wav", good[..20].to_vec()),
            exit: 3,
            says: "header is truncated",
            keeps: None,
        },
        Case {
            name: "data chunk shorter than its header says",
            file: put("short_data.wav", good[..good.len() * 6 / 10].to_vec()),
            exit: 3,
            says: "the file is truncated",
            keeps: Some("storm"),
        },
        Case {
            name: "not a WAV (text named .wav)",
            file: put("text.wav", b"hello, this is not audio\n".repeat(20)),
            exit: 3,
            says: "not a readable WAV file",
            keeps: None,
        },
        Case {
            name: "8-bit PCM",
            file: put("u8.wav", raw_wav(1, 1, 16_000, 8, &[128u8; 16_000])),
            exit: 3,
            says: "8-bit",
            keeps: None,
        },
        Case {
            name: "A-law",
            file: put("alaw.wav", raw_wav(6, 1, 8_000, 8, &[0xd5u8; 8_000])),
            exit: 3,
            says: "A-law",
            keeps: None,
        },
        Case {
            name: "64-bit float",
            file: put("f64.wav", raw_wav(3, 1, 16_000, 64, &[0u8; 8 * 16_000])),
            exit: 3,
            says: "64-bit",
            keeps: None,
        },
        Case {
            name: "9 channels",
            file: nine_path,
            exit: 3,
            says: "9 channels",
            keeps: None,
        },
        Case {
            name: "4 kHz sample rate",
            file: put("4k.wav", raw_wav(1, 1, 4_000, 16, &pcm16(4_000))),
            exit: 3,
            says: "sample rate 4000 Hz",
            keeps: None,
        },
        Case {
            name: "384 kHz sample rate",
            file: put("384k.wav", raw_wav(1, 1, 384_000, 16, &pcm16(38_400))),
            exit: 3,
            says: "sample rate 384000 Hz",
            keeps: None,
        },
        Case {
            name: "zero-length audio (valid header)",
            file: put("zero.wav", raw_wav(1, 1, 16_000, 16, &[])),
            exit: 3,
            says: "no audio",
            keeps: None,
        },
        Case {
            name: "NaN sample (float WAV)",
            file: nan_path,
            exit: 3,
            says: "NaN or infinite",
            keeps: Some("keys"),
        },
        Case {
            name: "infinite sample (float WAV)",
            file: inf_path,
            exit: 3,
            says: "NaN or infinite",
            keeps: Some("keys"),
        },
    ];
    println!("| input | exit | message |\n|---|---|---|");
    for case in &cases {
        let o = earshot(&["transcribe", "-q", case.file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        let stdout = String::from_utf8_lossy(&o.stdout);
        let message = stderr
            .lines()
            .find(|l| l.starts_with("earshot: error"))
            .unwrap_or("")
            .to_string();
        println!(
            "| {} | {} | `{}` |",
            case.name,
            o.status.code().unwrap_or(-1),
            message.replace(dir.to_str().unwrap(), "DIR")
        );
        assert_eq!(o.status.code(), Some(case.exit), "{}: {stderr}", case.name);
        assert!(message.contains(case.says), "{}: {stderr}", case.name);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", case.name);
        if let Some(words) = case.keeps {
            assert!(
                stdout.contains(words),
                "{}: the audio before the damage was not transcribed: {stdout:?}",
                case.name
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn clipping_and_dc_offset_still_transcribe() {
    let dir = scratch_dir("odd_audio");
    let (q04, rate) = read_wav_mono(&speech("q04.wav"));
    let peak = q04.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let clipped: Vec<f32> = q04
        .iter()
        .map(|s| (s / peak * 4.0).clamp(-1.0, 1.0))
        .collect();
    let offset: Vec<f32> = q04.iter().map(|s| s * 0.5 + 0.4).collect();
    for (name, samples) in [("clipped", clipped), ("dc_offset", offset)] {
        let path = dir.join(format!("{name}.wav"));
        write_wav(&path, rate, &samples);
        let o = earshot(&["transcribe", "-q", path.to_str().unwrap()]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8_lossy(&o.stdout).to_lowercase();
        assert!(text.contains("keys to the car"), "{name}: {text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_two_hour_file_streams_in_bounded_memory() {
    // Two hours of 16 kHz 16-bit audio (230 MB): quiet noise with one sentence near the start and one at the end.
    let dir = scratch_dir("two_hours");
    let path = dir.join("two_hours.wav");
    let (first, rate) = read_wav_mono(&speech("q04.wav"));
    let (last, _) = read_wav_mono(&speech("q02.wav"));
    assert_eq!(rate, 16_000);
    let total = 2 * 3600 * rate as usize;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    let mut noise = 12345u32;
    let start_last = total - last.len() - rate as usize;
    for i in 0..total {
        noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let mut s = ((noise >> 16) as f32 / 65536.0 - 0.5) * 0.002;
        if (rate as usize..rate as usize + first.len()).contains(&i) {
            s += first[i - rate as usize];
        } else if (start_last..start_last + last.len()).contains(&i) {
            s += last[i - start_last];
        }
        w.write_sample((s * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let file_mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
    let o = earshot(&["transcribe", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let text = String::from_utf8_lossy(&o.stdout).to_lowercase();
    assert!(
        text.contains("keys to the car") && text.contains("train station"),
        "{text}"
    );
    let peak_mb: f64 = stderr
        .split("peak RSS ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in the summary: {stderr}"));
    // Reading it whole would need the file's 230 MB plus its float copy; streaming stays at the model's footprint.
    assert!(
        peak_mb < 250.0 && peak_mb < file_mb,
        "peak RSS {peak_mb} MB for a {file_mb} MB file"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in `libonnxruntime` that reports version 1.19.0 (built here with the system C compiler): what a user gets
/// from an old distribution package.
fn old_runtime_library(dir: &Path) -> PathBuf {
    build_c_library(
        dir,
        "libonnxruntime.so.1.19.0",
        "typedef struct { const void *(*GetApi)(unsigned); const char *(*GetVersionString)(void); } OrtApiBase;\n\
         static const void *get_api(unsigned v) { (void)v; return 0; }\n\
         static const char *version(void) { return \"1.19.0\"; }\n\
         static const OrtApiBase base = { get_api, version };\n\
         const OrtApiBase *OrtGetApiBase(void) { return &base; }\n",
    )
}

/// A stand-in `libonnxruntime` 1.31.1 whose `OrtGetApiBase` and `GetApi` run the given C bodies.
fn stand_in_library(dir: &Path, name: &str, get_base: &str, get_api: &str) -> PathBuf {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    build_c_library(
        &dir,
        "libonnxruntime.so.1.31.1",
        &format!(
            "typedef struct {{ const void *(*GetApi)(unsigned); const char *(*GetVersionString)(void); }} OrtApiBase;\n\
             static const void *get_api(unsigned v) {{ (void)v; {get_api} }}\n\
             static const char *version(void) {{ return \"1.31.1\"; }}\n\
             static const OrtApiBase base = {{ get_api, version }};\n\
             const OrtApiBase *OrtGetApiBase(void) {{ {get_base} }}\n"
        ),
    )
}

/// `text` with the value after `key` (up to the end of its line or a comment) replaced by `value`.
fn regex_free_replace(text: &str, key: &str, value: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix(key) {
            Some(_) => format!("{key}{value}"),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn bad_profiles_packs_and_runtime_libraries_get_clear_errors_and_exit_codes() {
    let dir = scratch_dir("bad_config");
    let profile = |name: &str, text: &str| {
        let p = dir.join(format!("{name}.toml"));
        std::fs::write(
            &p,
            format!("name = \"{name}\"\ndescription = \"test\"\n{text}"),
        )
        .unwrap();
        p.to_str().unwrap().to_string()
    };
    let unknown = profile("unknown_key", "[decode]\nbeam_sise = 2\n");
    let wrong_type = profile("wrong_type", "[runtime]\nthreads = \"two\"\n");
    let out_of_range = profile("out_of_range", "[endpoint]\ntrailing_silence_ms = 999999\n");
    let pack = |name: &str, edit: &dyn Fn(String) -> String, drop: Option<&str>| {
        altered_pack(&dir, name, edit, drop)
            .to_str()
            .unwrap()
            .to_string()
    };
    let missing = pack("missing_file", &|m| m, Some("decoder.onnx"));
    let checksum = pack(
        "wrong_checksum",
        &|m| m.replace("\"1a84c503e5", "\"0a84c503e5"),
        None,
    );
    let version = pack(
        "wrong_version",
        &|m| m.replace("format_version = 1", "format_version = 2"),
        None,
    );
    let inputs = pack(
        "wrong_inputs",
        &|m| m.replace("input = \"features\"", "input = \"mel\""),
        None,
    );
    let old_runtime = old_runtime_library(&dir);
    let null_base = stand_in_library(&dir, "null_base", "return 0;", "return 0;");
    let null_api = stand_in_library(&dir, "null_api", "return &base;", "return 0;");
    let real = earshot::model::library_candidates()
        .into_iter()
        .find(|p| p.is_file())
        .expect("the ONNX Runtime library (bash .ci/setup)");
    let truncated = dir.join("truncated/libonnxruntime.so.1.31.1");
    std::fs::create_dir_all(truncated.parent().unwrap()).unwrap();
    let whole = std::fs::read(&real).unwrap();
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let vocab_size = pack(
        "vocab_size_truncates",
        &|m| m.replace("vocab_size = 51864", "vocab_size = 4295019160"),
        None,
    );
    let n_fft = pack(
        "n_fft_huge",
        &|m| m.replace("n_fft = 400", "n_fft = 4000000000"),
        None,
    );
    let norm_scale = pack(
        "norm_scale_zero",
        &|m| regex_free_replace(&m, "norm_scale = ", "0.0"),
        None,
    );
    let layers = pack(
        "layers_disagree",
        &|m| m.replace("layers = 4", "layers = 6"),
        None,
    );
    let block_size = pack(
        "end_of_window_size_disagrees",
        &|m| regex_free_replace(&m, "positions = ", "40"),
        None,
    );
    let unreadable = pack("vocabulary_is_a_folder", &|m| m, Some("vocabulary.txt"));
    std::fs::create_dir_all(Path::new(&unreadable).join("vocabulary.txt")).unwrap();
    // Issue 27: a device as a pack file was hashed for ever, and the block was read whole before its size was checked.
    let endless = pack(
        "end_of_window_is_dev_zero",
        &|m| m,
        Some("end_of_window.bin"),
    );
    std::os::unix::fs::symlink("/dev/zero", Path::new(&endless).join("end_of_window.bin")).unwrap();
    let missing_profile = dir.join("no/such/profile.toml");
    let missing_profile = missing_profile.to_str().unwrap();
    let q01 = speech("q01.wav");
    let q01 = q01.to_str().unwrap();

    // (case, extra arguments, ONNX Runtime library to use, exit code, part of the message)
    type ConfigCase<'a> = (&'a str, Vec<&'a str>, Option<&'a Path>, i32, &'a str);
    let cases: Vec<ConfigCase> = vec![
        (
            "profile: unknown key",
            vec!["--profile", &unknown],
            None,
            6,
            "unknown field `beam_sise`",
        ),
        (
            "profile: wrong type",
            vec!["--profile", &wrong_type],
            None,
            6,
            "invalid type",
        ),
        (
            "profile: out-of-range value",
            vec!["--profile", &out_of_range],
            None,
            6,
            "endpoint.trailing_silence_ms = 999999",
        ),
        (
            "pack: missing file",
            vec!["--model", &missing],
            None,
            4,
            "decoder.onnx",
        ),
        (
            "pack: wrong checksum",
            vec!["--model", &checksum],
            None,
            4,
            "SHA-256",
        ),
        (
            "pack: wrong manifest version",
            vec!["--model", &version],
            None,
            4,
            "format_version 2",
        ),
        (
            "pack: graph inputs differ from the manifest",
            vec!["--model", &inputs],
            None,
            4,
            "graph has no input \"mel\"",
        ),
        (
            "ONNX Runtime 1.19 instead of 1.31",
            vec![],
            Some(old_runtime.as_path()),
            5,
            "1.19.0",
        ),
        (
            "ONNX Runtime library truncated (an interrupted copy)",
            vec![],
            Some(truncated.as_path()),
            5,
            "truncated",
        ),
        (
            "ONNX Runtime stand-in: OrtGetApiBase returns NULL",
            vec![],
            Some(null_base.as_path()),
            5,
            "OrtGetApiBase returned NULL",
        ),
        (
            "ONNX Runtime stand-in: GetApi returns NULL",
            vec![],
            Some(null_api.as_path()),
            5,
            "GetApi returned NULL",
        ),
        (
            "pack: vocab_size past u32 (4295019160)",
            vec!["--model", &vocab_size],
            None,
            4,
            "decoder.vocab_size = 4295019160 is out of range",
        ),
        (
            "pack: n_fft = 4000000000",
            vec!["--model", &n_fft],
            None,
            4,
            "frontend.n_fft = 4000000000 is out of range",
        ),
        (
            "pack: norm_scale = 0",
            vec!["--model", &norm_scale],
            None,
            4,
            "frontend.norm_scale = 0 is out of range",
        ),
        (
            "pack: decoder.layers disagrees with the graphs",
            vec!["--model", &layers],
            None,
            4,
            "graph output \"cross_k\" has shape [4, 1, -1, 384] but the manifest's sizes make it [6, 1, *, 384]",
        ),
        (
            "pack: the end-of-window block's size disagrees with the manifest",
            vec!["--model", &block_size],
            None,
            4,
            "end_of_window.bin: 614400 bytes, but [end_of_window] positions = 40 with 4 layers of width 384 needs \
             491520: re-export the pack",
        ),
        (
            "pack: a file unreadable (a folder)",
            vec!["--model", &unreadable],
            None,
            4,
            "vocabulary.txt",
        ),
        (
            "pack: a file that is /dev/zero",
            vec!["--model", &endless],
            None,
            4,
            "end_of_window.bin: is not a regular file",
        ),
        (
            "profile: a path that does not exist",
            vec!["--profile", missing_profile],
            None,
            6,
            "No such file",
        ),
        (
            "profile: /dev/zero",
            vec!["--profile", "/dev/zero"],
            None,
            6,
            "larger than",
        ),
        (
            "profile: a WAV file",
            vec!["--profile", q01],
            None,
            6,
            "is a WAV file, not a device profile",
        ),
    ];
    println!("| input | exit | message |\n|---|---|---|");
    for (name, args, runtime, exit, says) in cases {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_earshot"));
        command
            .arg("transcribe")
            .args(&args)
            .arg(q01)
            .current_dir(crate::common::root());
        if let Some(lib) = runtime {
            command.env("ORT_DYLIB_PATH", lib);
        }
        let o = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        let message = stderr
            .lines()
            .find(|l| l.starts_with("earshot: error"))
            .unwrap_or("");
        println!(
            "| {name} | {} | `{}` |",
            o.status.code().unwrap_or(-1),
            message.replace(dir.to_str().unwrap(), "DIR")
        );
        assert_eq!(o.status.code(), Some(exit), "{name}: {stderr}");
        assert!(message.contains(says), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
