//! Criterion benches of the capture side: MFCC extraction per second of audio (100 frames) and ring push/pop.
//! Setup outside the timed closures; inputs through `black_box`.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use earshot::audio::{CaptureSide, WavSource};
use earshot::features::MfccExtractor;
use earshot::model::Manifest;
use earshot::ring::{frame_ring, Frame};

fn bench_frontend(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = Manifest::load(&root.join("models/whisper-tiny-en-int8")).expect("manifest");
    let mut wav = WavSource::open(root.join("tests/fixtures/speech/long02.wav")).expect("fixture");
    let mut samples = Vec::new();
    wav.read_mono(&mut samples, 16_000).expect("read"); // one second: 100 frames

    let mut group = c.benchmark_group("mfcc");
    group.throughput(Throughput::Elements(100));
    let mut extractor = MfccExtractor::new(&manifest.frontend);
    group.bench_function("1s_16k_per_frame", |b| {
        b.iter(|| {
            let mut n = 0usize;
            extractor.push(black_box(&samples), |f| n += f.len());
            extractor.reset();
            n
        })
    });
    // The whole capture side at 48 kHz stereo: downmix, resample, MFCC, ring push (ring drained outside the timing).
    let stereo48: Vec<f32> = samples.iter().flat_map(|&s| [s, s, s, s, s, s]).collect();
    let (producer, mut consumer) = frame_ring(1_000_000);
    let mut capture = CaptureSide::new(&manifest.frontend, 48_000, 2, producer).expect("capture");
    group.bench_function("capture_side_1s_48k_stereo_per_frame", |b| {
        b.iter(|| {
            capture.push_f32(black_box(&stereo48), 0);
            while consumer.pop().is_some() {}
        })
    });
    group.finish();

    let mut group = c.benchmark_group("ring");
    group.throughput(Throughput::Elements(1000));
    let (mut producer, mut consumer) = frame_ring(4096);
    let frame = Frame::new(0, 0, &[0.5; 80]);
    group.bench_function("push_pop_1000_frames", |b| {
        b.iter(|| {
            for _ in 0..1000 {
                producer.push(black_box(frame));
            }
            let mut n = 0;
            while consumer.pop().is_some() {
                n += 1;
            }
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench_frontend);
criterion_main!(benches);
