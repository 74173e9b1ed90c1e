//! The Rust decoder against the export pipeline's reference tokens (same MFCC input, same int8 pack).

use earshot::internals::{search, Decoder, Prefix};
use earshot::{Recognizer, RecognizerConfig, TimingRecorder};

use crate::common::{mfcc_fixture, model, reference_tokens};

#[test]
fn greedy_tokens_equal_the_pipeline_reference_on_every_mfcc_fixture() {
    let model = model();
    let recognizer = Recognizer::new(model.clone(), RecognizerConfig::default()).unwrap();
    let timings = TimingRecorder::default();
    let decoder = Decoder {
        model: &model,
        vocabulary: recognizer.vocabulary(),
        timings: &timings,
        bias: None,
    };
    let reference = reference_tokens();
    let fixtures = reference["mfcc_fixtures"].as_object().unwrap();
    assert!(fixtures.len() >= 6);
    for id in fixtures.keys() {
        let frames = mfcc_fixture(id);
        let n = frames.len() / 80;
        let audio = model.encode(&frames, model.bucket_for(n, 0)).unwrap();
        let h = search(decoder, &audio, 1, 446, Prefix::None).unwrap();
        let want: Vec<u32> = reference["clips"][id]["int8"]["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(
            h.tokens,
            want,
            "{id}: {:?}",
            recognizer.vocabulary().detokenize(&h.tokens)
        );
        let p_ref = reference["clips"][id]["int8"]["no_speech_prob"]
            .as_f64()
            .unwrap() as f32;
        // The reference comes from Python ONNX Runtime on an AVX-512 machine; other x86 kernels (AVX2) sum in
        // another order: measured 0.0166 vs 0.0177 on long02 with equal tokens. 1e-3 absolute or 10 % relative.
        assert!(
            (h.no_speech_prob - p_ref).abs() < 1e-3_f32.max(0.1 * p_ref),
            "{id}: no-speech {} vs {p_ref}",
            h.no_speech_prob
        );
    }
}
