//! Criterion benches of the model on a fixture: encoder per bucket, and a whole greedy decode (per-step cost =
//! time / steps, printed). Setup (model load, MFCC) is outside the timed closures.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use earshot::audio::{FrontEnd, WavSource};
use earshot::decode::{search, Prefix};
use earshot::model::{Model, RuntimeOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_frames(model: &Model, file: &str) -> Vec<f32> {
    let mut wav =
        WavSource::open(root().join("tests/fixtures/speech").join(file)).expect("fixture");
    let mut samples = Vec::new();
    wav.read_mono(&mut samples, usize::MAX / 16).expect("read");
    let mut front =
        FrontEnd::new(&model.manifest().frontend, wav.sample_rate()).expect("front-end");
    let mut frames = Vec::new();
    front
        .push(&samples, |f| frames.extend_from_slice(f))
        .expect("push");
    front
        .finish(|f| frames.extend_from_slice(f))
        .expect("finish");
    frames
}

fn bench_model(c: &mut Criterion) {
    let threads = std::env::var("EARSHOT_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let model = Model::load_with(
        root().join("models/whisper-tiny-en-int8"),
        RuntimeOptions {
            intra_threads: threads,
            decoder_threads: threads,
        },
    )
    .expect("model");
    let frames = fixture_frames(&model, "long02.wav");
    for window in [500usize, 1000, 3000] {
        c.bench_function(&format!("encoder/{window}_frames/{threads}_threads"), |b| {
            b.iter(|| model.encode(black_box(&frames), window).expect("encode"))
        });
    }
    let audio = model.encode(&frames, 1000).expect("encode");
    let steps = search(&model, &audio, 1, 200, Prefix::None)
        .expect("search")
        .tokens
        .len()
        + 2;
    println!("greedy decode of long02.wav: {steps} decoder steps (divide the time below by it)");
    c.bench_function(&format!("greedy_decode/long02/{threads}_threads"), |b| {
        b.iter(|| search(&model, black_box(&audio), 1, 200, Prefix::None).expect("search"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_model
}
criterion_main!(benches);
