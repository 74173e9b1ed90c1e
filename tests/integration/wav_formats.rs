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
