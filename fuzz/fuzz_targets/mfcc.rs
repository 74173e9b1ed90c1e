//! The MFCC front-end on arbitrary samples (any f32 bit pattern: NaN, infinity, huge, tiny) at any supported rate,
//! fed in arbitrary pieces: never a panic, every frame finite, and the frames do not depend on the piece sizes.
#![no_main]

use libfuzzer_sys::fuzz_target;

use earshot::audio::FrontEnd;
use earshot_fuzz::frontend_spec;

fn frames(rate: u32, samples: &[f32], piece: usize) -> Vec<u32> {
    let mut front = FrontEnd::new(frontend_spec(), rate).expect("front-end");
    let mut out = Vec::new();
    let mut keep = |f: &[f32]| {
        assert!(f.iter().all(|v| v.is_finite()), "non-finite MFCC value");
        out.extend(f.iter().map(|v| v.to_bits()));
    };
    for chunk in samples.chunks(piece.max(1)) {
        front.push(chunk, &mut keep).expect("push");
    }
    front.finish(&mut keep).expect("finish");
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let rates = [8_000, 16_000, 44_100, 48_000];
    let rate = rates[usize::from(control & 3)];
    let samples: Vec<f32> = rest
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let whole = frames(rate, &samples, samples.len());
    let cut = frames(rate, &samples, 1 + usize::from(control >> 2));
    assert_eq!(whole, cut, "frames depend on how the samples were cut");
});
