//! The Rust front-end against the export pipeline's MFCC fixtures, and chunk-size independence.

use earshot::audio::{FrontEnd, WavSource};
use earshot::features::MfccExtractor;
use proptest::prelude::*;

use crate::common::{mfcc_fixture, model, read_wav_mono, reference_tokens, speech};

fn extract_all(extractor: &mut MfccExtractor, samples: &[f32], chunks: &[usize]) -> Vec<f32> {
    let mut out = Vec::new();
    let mut rest = samples;
    let mut i = 0;
    while !rest.is_empty() {
        let n = chunks
            .get(i % chunks.len().max(1))
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        extractor.push(&rest[..n], |f| out.extend_from_slice(f));
        rest = &rest[n..];
        i += 1;
    }
    extractor.finish(|f| out.extend_from_slice(f));
    out
}

#[test]
fn mfcc_matches_the_reference_fixtures_within_1e3() {
    let model = model();
    let reference = reference_tokens();
    let mut extractor = MfccExtractor::new(&model.manifest().frontend);
    let mut worst = 0.0f32;
    for id in reference["mfcc_fixtures"].as_object().unwrap().keys() {
        let want = mfcc_fixture(id);
        let (samples, rate) = read_wav_mono(&speech(&format!("{id}.wav")));
        assert_eq!(rate, 16000, "MFCC fixtures are 16 kHz clips");
        let got = extract_all(&mut extractor, &samples, &[samples.len()]);
        assert_eq!(got.len(), want.len(), "{id}: frame count");
        let diff = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(diff <= 1e-3, "{id}: max abs difference {diff}");
        worst = worst.max(diff);
    }
    eprintln!("MFCC max abs difference vs reference: {worst:.2e}");
}

#[test]
fn short_inputs_give_samples_over_hop_frames() {
    let model = model();
    let mut extractor = MfccExtractor::new(&model.manifest().frontend);
    for n in [0usize, 1, 159, 160, 199, 200, 201, 319, 320, 401, 1000] {
        let samples: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 0.3).collect();
        let frames = extract_all(&mut extractor, &samples, &[7]).len() / 80;
        assert_eq!(frames, n / 160, "{n} samples");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn mfcc_frames_do_not_depend_on_chunk_sizes(chunks in prop::collection::vec(1usize..5000, 1..12)) {
        let model = model();
        let (samples, _) = read_wav_mono(&speech("q05.wav"));
        let mut extractor = MfccExtractor::new(&model.manifest().frontend);
        let whole = extract_all(&mut extractor, &samples, &[samples.len()]);
        let chunked = extract_all(&mut extractor, &samples, &chunks);
        prop_assert_eq!(whole, chunked);
    }

    #[test]
    fn resampling_front_end_does_not_depend_on_chunk_sizes(chunks in prop::collection::vec(1usize..9000, 1..8)) {
        let model = model();
        let mut wav = WavSource::open(speech("name04_stereo_48000hz.wav")).unwrap();
        let mut samples = Vec::new();
        wav.read_mono(&mut samples, usize::MAX / 8).unwrap();
        let run = |chunks: &[usize]| {
            let mut fe = FrontEnd::new(&model.manifest().frontend, 48000).unwrap();
            let mut out = Vec::new();
            let mut rest = samples.as_slice();
            let mut i = 0;
            while !rest.is_empty() {
                let n = chunks[i % chunks.len()].min(rest.len());
                fe.push(&rest[..n], |f| out.extend_from_slice(f)).unwrap();
                rest = &rest[n..];
                i += 1;
            }
            fe.finish(|f| out.extend_from_slice(f)).unwrap();
            out
        };
        let whole = run(&[samples.len()]);
        prop_assert_eq!(whole.len() / 80, samples.len() / 3 / 160);
        prop_assert_eq!(whole, run(&chunks));
    }
}
