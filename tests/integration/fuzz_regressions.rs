//! One test per fuzzing finding (fuzz/regressions/<target>/<finding>), named after it: the input that failed, and
//! the property that failed on it.

use std::path::PathBuf;

use earshot::audio::{CaptureSide, FrontEnd, PcmDecoder, PcmFormat, WavSource};
use earshot::ring::frame_ring;

use crate::common::{model, root};

fn finding(target: &str, name: &str) -> Vec<u8> {
    let path: PathBuf = root().join("fuzz/regressions").join(target).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Stereo float WAV with samples near f32::MAX: the downmix summed before scaling and overflowed to infinity.
#[test]
fn wav_ingest_downmix_of_huge_float_samples_overflowed() {
    let data = finding("wav_ingest", "downmix_of_huge_float_samples_overflowed");
    let mut wav = WavSource::from_reader(std::io::Cursor::new(data), "finding.wav").unwrap();
    let mut block = Vec::new();
    let mut total = 0;
    while let Ok(n) = wav.read_mono(&mut block, 4096) {
        if n == 0 {
            break;
        }
        assert!(block.iter().all(|s| s.is_finite()), "{block:?}");
        total += n;
    }
    assert!(total > 0);
}

/// Raw f32 stereo PCM with huge finite samples: the resampler's FFT overflowed into NaN and rubato panicked
/// ("Imaginary part of first value was non-zero").
#[test]
fn raw_pcm_huge_samples_panicked_the_resampler() {
    let data = finding("raw_pcm", "huge_samples_panicked_the_resampler");
    let control = data[0];
    let channels = usize::from(control >> 1 & 7) + 1;
    let format = if control & 1 == 0 {
        PcmFormat::S16le
    } else {
        PcmFormat::F32le
    };
    let rate = [
        8_000, 11_025, 16_000, 22_050, 44_100, 48_000, 96_000, 192_000,
    ][usize::from(control >> 4 & 7)];
    let model = model();
    let (producer, mut consumer) = frame_ring(4096);
    let mut capture =
        CaptureSide::new(&model.manifest().frontend, rate, channels, producer).unwrap();
    let mut decoder = PcmDecoder::new(format, channels);
    let mut samples = 0;
    decoder.push(&data[1..], |s| {
        samples += s.len();
        capture.push_f32(s, 0) // panicked here
    });
    capture.finish(0);
    assert!(samples > 0);
    while let Some(frame) = consumer.pop() {
        assert!(frame.values().iter().all(|v| v.is_finite()));
    }
}

/// Samples of 1e30 mixed with NaN and infinity straight into the front-end: the power spectrum overflowed and MFCC
/// values came out infinite or NaN.
#[test]
fn mfcc_huge_samples_made_non_finite_mfcc() {
    let data = finding("mfcc", "huge_samples_made_non_finite_mfcc");
    let rate = [8_000, 16_000, 44_100, 48_000][usize::from(data[0] & 3)];
    let samples: Vec<f32> = data[1..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert!(
        samples.iter().any(|s| s.abs() > 1e30),
        "the finding's point: huge samples"
    );
    let model = model();
    let mut front = FrontEnd::new(&model.manifest().frontend, rate).unwrap();
    let mut values = Vec::new();
    front
        .push(&samples, |f| values.extend_from_slice(f))
        .unwrap();
    front.finish(|f| values.extend_from_slice(f)).unwrap();
    assert!(!values.is_empty());
    assert!(values.iter().all(|v| v.is_finite()));
}
