//! The Rust decoder against the export pipeline's reference tokens (same MFCC input, same int8 pack).

use earshot::decode::{search, Prefix};

use crate::common::{mfcc_fixture, model, reference_tokens};

#[test]
fn greedy_tokens_equal_the_pipeline_reference_on_every_mfcc_fixture() {
    let model = model();
    let reference = reference_tokens();
    let fixtures = reference["mfcc_fixtures"].as_object().unwrap();
    assert!(fixtures.len() >= 6);
    for id in fixtures.keys() {
        let frames = mfcc_fixture(id);
        let n = frames.len() / 80;
        let audio = model.encode(&frames, model.bucket_for(n, 0)).unwrap();
        let h = search(model.as_ref(), &audio, 1, 446, Prefix::None).unwrap();
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
            model.vocabulary().detokenize(&h.tokens)
        );
        let p_ref = reference["clips"][id]["int8"]["no_speech_prob"]
            .as_f64()
            .unwrap() as f32;
        assert!(
            (h.no_speech_prob - p_ref).abs() < 1e-3,
            "{id}: no-speech {} vs {p_ref}",
            h.no_speech_prob
        );
    }
}
