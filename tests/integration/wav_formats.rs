//! Every WAV encoding and layout earshot accepts gives the same transcript as the 16-bit original.

use std::path::PathBuf;

use crate::common::{joined, read_wav_mono, recognize, recognizer, speech};

fn write(path: &PathBuf, spec: hound::WavSpec, mono: &[f32]) {
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in mono {
        for ch in 0..spec.channels {
            let v = if ch % 2 == 0 { s } else { s * 0.5 };
            match (spec.sample_format, spec.bits_per_sample) {
                (hound::SampleFormat::Float, _) => w.write_sample(v).unwrap(),
                (_, bits) => w
                    .write_sample((v * ((1i64 << (bits - 1)) - 1) as f32) as i32)
                    .unwrap(),
            }
        }
    }
    w.finalize().unwrap();
}

#[test]
fn int16_to_32_float_and_multichannel_files_transcribe_alike() {
    let (mono, rate) = read_wav_mono(&speech("q04.wav"));
    let recognizer = recognizer("default", None);
    let want = joined(&recognize(&recognizer, &mono, rate));
    assert!(want.contains("keys to the car"), "{want}");
    let dir = std::env::temp_dir().join(format!("earshot-wav-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let int = hound::SampleFormat::Int;
    let cases = [
        ("int24", 1, 24, int),
        ("int32", 1, 32, int),
        ("float32", 1, 32, hound::SampleFormat::Float),
        ("stereo", 2, 16, int),
        ("six_channels", 6, 16, int),
    ];
    for (name, channels, bits, format) in cases {
        let path = dir.join(format!("{name}.wav"));
        write(
            &path,
            hound::WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: bits,
                sample_format: format,
            },
            &mono,
        );
        let (samples, r) = read_wav_mono(&path);
        assert_eq!((samples.len(), r), (mono.len(), rate), "{name}");
        let got = joined(&recognize(&recognizer, &samples, r));
        assert_eq!(got, want, "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `fmt ` chunk body: PCM (tag 1) or WAVE_FORMAT_EXTENSIBLE (with `valid` bits and the PCM subformat).
fn fmt_chunk(
    channels: u16,
    rate: u32,
    container_bytes: u16,
    bits: u16,
    extensible: Option<u16>,
) -> Vec<u8> {
    let block = channels * container_bytes;
    let tag: u16 = if extensible.is_some() { 0xfffe } else { 1 };
    let mut v = Vec::new();
    for word in [tag, channels] {
        v.extend_from_slice(&word.to_le_bytes());
    }
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    v.extend_from_slice(&block.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    if let Some(valid) = extensible {
        v.extend_from_slice(&22u16.to_le_bytes());
        v.extend_from_slice(&valid.to_le_bytes());
        v.extend_from_slice(&4u32.to_le_bytes()); // channel mask: front centre
                                                  // KSDATAFORMAT_SUBTYPE_PCM: 00000001-0000-0010-8000-00aa00389b71
        v.extend_from_slice(&[
            1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
        ]);
    }
    v
}

/// RIFF/WAVE bytes from chunks; `sizes` overrides the RIFF and the data chunk's size fields.
fn riff(
    format: &[u8],
    before_data: &[(&[u8; 4], Vec<u8>)],
    data: &[u8],
    sizes: Option<(u32, u32)>,
) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    let mut chunk = |id: &[u8], bytes: &[u8], size: u32| {
        body.extend_from_slice(id);
        body.extend_from_slice(&size.to_le_bytes());
        body.extend_from_slice(bytes);
        if bytes.len() % 2 == 1 {
            body.push(0); // the pad byte
        }
    };
    chunk(b"fmt ", format, format.len() as u32);
    for (id, bytes) in before_data {
        chunk(&id[..], bytes, bytes.len() as u32);
    }
    let (riff_size, data_size) = sizes.unwrap_or((0, data.len() as u32));
    chunk(b"data", data, data_size);
    let riff_size = if sizes.is_some() {
        riff_size
    } else {
        body.len() as u32
    };
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&riff_size.to_le_bytes());
    v.extend(body);
    v
}

#[test]
fn wav_layouts_hound_rejected_read_as_the_original() {
    // Issue 11: a standard 24-in-32 WAVE_FORMAT_EXTENSIBLE file decoded to garbage (exit 0), and valid or common
    // layouts were rejected: odd-sized LIST chunks with their pad byte, long `fact` chunks, the 0xFFFFFFFF sizes ffmpeg
    // writes to a pipe, a header never finalized, 16-bit samples in 4-byte containers.
    let (mono, rate) = read_wav_mono(&speech("q04.wav"));
    let ints: Vec<i16> = mono.iter().map(|&s| (s * 32768.0).round() as i16).collect();
    let s16: Vec<u8> = ints.iter().flat_map(|s| s.to_le_bytes()).collect();
    // 16-bit values at the top of 32-bit containers (24 or 16 valid bits: the padding bits are zero).
    let top32: Vec<u8> = ints
        .iter()
        .flat_map(|&s| (i32::from(s) << 16).to_le_bytes())
        .collect();
    let pcm16 = fmt_chunk(1, rate, 2, 16, None);
    let list = (b"LIST", b"INFOISFT\x05\0\0\0Lavf\0".to_vec()); // 17 bytes: odd, padded
    let cases = [
        (
            "24-in-32 extensible",
            riff(&fmt_chunk(1, rate, 4, 32, Some(24)), &[], &top32, None),
        ),
        (
            "16-in-32 extensible",
            riff(&fmt_chunk(1, rate, 4, 32, Some(16)), &[], &top32, None),
        ),
        (
            "16-bit in 4-byte containers",
            riff(&fmt_chunk(1, rate, 4, 16, None), &[], &top32, None),
        ),
        (
            "odd LIST chunk with its pad byte",
            riff(&pcm16, std::slice::from_ref(&list), &s16, None),
        ),
        (
            "fact chunk of 12 bytes",
            riff(&pcm16, &[(b"fact", vec![7; 12]), list], &s16, None),
        ),
        (
            "0xFFFFFFFF sizes (ffmpeg to a pipe)",
            riff(&pcm16, &[], &s16, Some((u32::MAX, u32::MAX))),
        ),
        (
            "header never finalized",
            riff(&pcm16, &[], &s16, Some((0, 0))),
        ),
    ];
    let dir = crate::common::scratch_dir("wav-layouts");
    for (name, bytes) in cases {
        let path = dir.join("case.wav");
        std::fs::write(&path, &bytes).unwrap();
        let (samples, r) = read_wav_mono(&path);
        assert_eq!((samples.len(), r), (mono.len(), rate), "{name}");
        assert_eq!(samples, mono, "{name}");
        let wav = earshot::audio::WavSource::open(&path).unwrap();
        assert_eq!(wav.duration_frames(), Some(mono.len() as u64), "{name}");
        // The same bytes through a pipe: a stream of unknown length, read to its end.
        let mut piped =
            earshot::audio::WavSource::from_reader(std::io::Cursor::new(bytes), "pipe").unwrap();
        let mut block = Vec::new();
        let mut frames = 0;
        while piped.read_mono(&mut block, 4096).unwrap() > 0 {
            frames += block.len();
        }
        assert_eq!(frames, mono.len(), "{name} through a pipe");
    }
}

#[test]
fn valid_bits_at_the_bottom_of_the_container_read_as_the_original_and_nonsense_is_refused() {
    // Issue 27: right-justified samples (24 or 16 valid bits at the bottom of 32, sign-extended) were read as if at
    // the top: garbage text or nothing, with exit 0.
    let (mono, rate) = read_wav_mono(&speech("q04.wav"));
    let ints: Vec<i16> = mono.iter().map(|&s| (s * 32768.0).round() as i16).collect();
    let bottom = |shift: u32| -> Vec<u8> {
        ints.iter()
            .flat_map(|&s| (i32::from(s) << shift).to_le_bytes())
            .collect()
    };
    let dir = crate::common::scratch_dir("wav-bottom");
    for (name, valid, data) in [
        ("24-in-32 at the bottom", 24, bottom(8)),
        ("16-in-32 at the bottom", 16, bottom(0)),
    ] {
        let bytes = riff(&fmt_chunk(1, rate, 4, 32, Some(valid)), &[], &data, None);
        let path = dir.join("case.wav");
        std::fs::write(&path, &bytes).unwrap();
        let (samples, _) = read_wav_mono(&path);
        assert_eq!(samples, mono, "{name}");
        // Through a pipe, block by block: the same samples.
        let mut piped =
            earshot::audio::WavSource::from_reader(std::io::Cursor::new(bytes), "pipe").unwrap();
        let (mut block, mut all) = (Vec::new(), Vec::new());
        while piped.read_mono(&mut block, 4096).unwrap() > 0 {
            all.extend_from_slice(&block);
        }
        assert_eq!(all, mono, "{name} through a pipe");
        let o = crate::common::earshot(&["transcribe", "-q", path.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && text.contains("keys to the car"),
            "{name}: {text}"
        );
    }
    // Samples that use the padding bits whichever way they are read: refused where it shows, with exit 3.
    let noise: Vec<u8> = ints
        .iter()
        .enumerate()
        .flat_map(|(i, &s)| ((i32::from(s) << 16) | (i as i32 & 0xff)).to_le_bytes())
        .collect();
    let path = dir.join("damaged.wav");
    std::fs::write(
        &path,
        riff(&fmt_chunk(1, rate, 4, 32, Some(24)), &[], &noise, None),
    )
    .unwrap();
    let o = crate::common::earshot(&["transcribe", "-q", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("24 valid bits in 32-bit samples") && err.contains("fits neither"),
        "{err}"
    );
}

#[test]
fn a_24_in_32_extensible_file_transcribes_and_replays_like_the_original() {
    let (mono, rate) = read_wav_mono(&speech("q04.wav"));
    let top32: Vec<u8> = mono
        .iter()
        .flat_map(|&s| {
            ((((s * 8_388_608.0).round() as i32).clamp(-8_388_608, 8_388_607)) << 8).to_le_bytes()
        })
        .collect();
    let dir = crate::common::scratch_dir("wav-24in32");
    let path = dir.join("q04_24in32.wav");
    std::fs::write(
        &path,
        riff(&fmt_chunk(1, rate, 4, 32, Some(24)), &[], &top32, None),
    )
    .unwrap();
    let transcribe = crate::common::earshot(&["transcribe", "-q", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&transcribe.stdout);
    assert!(
        transcribe.status.success() && text.contains("keys to the car"),
        "{text}"
    );
    let replay = crate::common::earshot(&[
        "listen",
        "--replay",
        path.to_str().unwrap(),
        "--fast",
        "--json",
        "-q",
    ]);
    let events = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(
        events
            .lines()
            .any(|l| l.contains("\"final\"") && l.contains("keys to the car")),
        "{events}"
    );
}
