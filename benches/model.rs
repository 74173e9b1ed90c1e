//! Criterion benches of the model on a fixture: encoder per bucket, one decoder step (after the prompt and 10 text
//! tokens) for one hypothesis and for a batch of 5 (a beam-5 step), a whole greedy and beam-5 decode (per-step cost =
//! time / steps, printed), and end to end: a 3 s utterance's samples
//! to its final transcript as `earshot transcribe` runs it (WAV read, capture side, ring, endpointing, encoder,
//! decoder, detokenizer). Setup
//! (model load, MFCC for the model benches) is outside the timed closures.

use std::hint::black_box;
use std::path::PathBuf;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use earshot::audio::{FrontEnd, WavSource};
use earshot::internals::{search, Decoder, KvCache, Prefix};
use earshot::{Model, Profile, Recognizer, RecognizerConfig, RuntimeOptions, TimingRecorder};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_samples(file: &str) -> (Vec<f32>, u32) {
    let mut wav =
        WavSource::open(root().join("tests/fixtures/speech").join(file)).expect("fixture");
    let mut samples = Vec::new();
    wav.read_mono(&mut samples, usize::MAX / 16).expect("read");
    (samples, wav.sample_rate())
}

fn fixture_frames(model: &Model, file: &str) -> Vec<f32> {
    let (samples, rate) = fixture_samples(file);
    let mut front = FrontEnd::new(&model.manifest().frontend, rate).expect("front-end");
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
    let model = Arc::new(
        Model::load_with(
            root().join("models/whisper-tiny-en-int8"),
            RuntimeOptions {
                threads,
                decoder_threads: threads,
            },
        )
        .expect("model"),
    );
    let frames = fixture_frames(&model, "long02.wav");
    let greedy = Recognizer::new(model.clone(), RecognizerConfig::default()).expect("recognizer");
    let timings = TimingRecorder::default(); // off: recording costs one atomic load per call
    let prompter = earshot::DecodeOptions::default()
        .prompter(model.manifest(), &earshot::ConfigSource::BuiltIn)
        .expect("English prompt");
    let decoder = Decoder {
        model: &model,
        vocabulary: greedy.vocabulary(),
        timings: &timings,
        bias: None,
        prompter: &prompter,
        prompt: &model.manifest().tokens.prompt,
        draft: &[],
        draft_unsure: false,
    };
    for window in [500usize, 1000, 3000] {
        c.bench_function(&format!("encoder/{window}_frames/{threads}_threads"), |b| {
            b.iter(|| model.encode(black_box(&frames), window).expect("encode"))
        });
    }
    let audio = model.encode(&frames, 1000).expect("encode");
    let steps = search(decoder, &audio, 1, 200, Prefix::None)
        .expect("search")
        .tokens
        .len()
        + 2;
    println!("greedy decode of long02.wav: {steps} decoder steps (divide the time below by it)");
    c.bench_function(&format!("greedy_decode/long02/{threads}_threads"), |b| {
        b.iter(|| search(decoder, black_box(&audio), 1, 200, Prefix::None).expect("search"))
    });
    c.bench_function(&format!("beam5_decode/long02/{threads}_threads"), |b| {
        b.iter(|| search(decoder, black_box(&audio), 5, 200, Prefix::None).expect("search"))
    });

    // One decoder step on top of a cache holding the prompt and the first 10 text tokens.
    let text = search(decoder, &audio, 1, 200, Prefix::None)
        .expect("search")
        .tokens;
    let fed: Vec<u32> = model
        .manifest()
        .tokens
        .prompt
        .iter()
        .chain(&text[..10])
        .copied()
        .collect();
    let mut cache = KvCache::default();
    let mut logits = Vec::new();
    model
        .decode_step(&audio, &fed, &mut cache, &mut logits)
        .expect("prompt");
    c.bench_function(
        &format!("decoder_step/position_{}/{threads}_threads", fed.len()),
        |b| {
            b.iter_batched(
                || cache.try_clone().expect("clone"),
                |mut cache| {
                    model
                        .decode_step(&audio, &[text[10]], &mut cache, &mut logits)
                        .expect("step")
                },
                BatchSize::SmallInput,
            )
        },
    );
    let five_rows = cache.select(&[0; 5]).expect("select");
    let next = [text[10]; 5];
    c.bench_function(
        &format!(
            "decoder_step_5_rows/position_{}/{threads}_threads",
            fed.len()
        ),
        |b| {
            b.iter_batched(
                || five_rows.try_clone().expect("clone"),
                |mut cache| {
                    model
                        .decode_step(&audio, &next, &mut cache, &mut logits)
                        .expect("step")
                },
                BatchSize::SmallInput,
            )
        },
    );

    // End to end: samples of a 3 s question to its final, as `earshot transcribe` runs it.
    let mut profile =
        Profile::load(&root().join("firmware-configs/default.toml")).expect("profile");
    profile.partials.interval_ms = 0;
    let recognizer =
        Recognizer::new(model.clone(), profile.recognizer_config()).expect("recognizer");
    let q02 = root().join("tests/fixtures/speech/q02.wav");
    c.bench_function(&format!("end_to_end/q02_3s/{threads}_threads"), |b| {
        b.iter(|| {
            let t = earshot::transcribe_file(&recognizer, black_box(&q02), |_, _| {})
                .map_err(|f| f.error)
                .expect("transcribe");
            assert!(t.text.contains("train station"), "{}", t.text);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_model
}
criterion_main!(benches);
