//! The live path as `earshot listen` runs it: capture side -> FrameRing -> recognizer thread.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use earshot::audio::{spawn_wav_replay, CaptureSide, Pacing, WavSource};
use earshot::bench::wer::WerCounter;
use earshot::ring::frame_ring;
use earshot::run_recognizer;
use earshot::{Recognizer, TranscriptEvent};
use proptest::prelude::*;

use crate::alloc_counter::allocations_during;
use crate::common::{
    corpus, finals, joined, model, read_wav_mono, recognize, recognizer, root, speech,
};

/// The default profile with partial results on, as `earshot listen` uses it.
fn live_recognizer() -> Recognizer {
    let profile = earshot::Profile::load(&root().join("firmware-configs/default.toml")).unwrap();
    assert!(profile.partials.interval_ms > 0);
    Recognizer::new(model(), profile.recognizer_config()).unwrap()
}

/// Replay a WAV file through the live path as fast as possible; all events in order.
pub fn live_events(recognizer: &Recognizer, path: &Path) -> Vec<TranscriptEvent> {
    let model = model();
    let mut stream = recognizer.create_stream();
    let (producer, mut consumer) = frame_ring(3000);
    let wav = WavSource::open(path).unwrap();
    let capture =
        CaptureSide::new(&model.manifest().frontend, wav.sample_rate(), 1, producer).unwrap();
    let reader = spawn_wav_replay(
        wav,
        capture,
        stream.epoch(),
        Pacing::Fast,
        Arc::new(AtomicBool::new(false)),
    )
    .unwrap();
    let mut events = Vec::new();
    let stats = run_recognizer(recognizer, &mut stream, &mut consumer, |e| events.push(e)).unwrap();
    reader.join().unwrap().unwrap();
    assert_eq!(stats.overruns, 0, "fast replay waits for ring space");
    events
}

/// Partials' committed text only grows within a segment (the final may correct it: it is a fresh decode).
fn check_partials(events: &[TranscriptEvent], what: &str) -> usize {
    let mut committed = String::new();
    let mut partials = 0;
    for e in events {
        match e {
            TranscriptEvent::Partial(p) => {
                assert!(
                    p.committed.starts_with(committed.as_str()),
                    "{what}: committed shrank: {committed:?} -> {:?}",
                    p.committed
                );
                committed = p.committed.clone();
                partials += 1;
            }
            TranscriptEvent::Endpoint(_) => committed.clear(),
            _ => {}
        }
    }
    partials
}

#[test]
fn live_finals_match_transcribe_but_for_near_ties_beam_drafts_and_partials_only_grow() {
    let live = live_recognizer();
    let batch = recognizer("default", None);
    let beam = recognizer("default", Some(5));
    let (mut live_wer, mut batch_wer) = (WerCounter::default(), WerCounter::default());
    let (mut same, mut clips, mut partials, mut beam_texts) = (0, 0, 0, 0);
    for clip in corpus().iter().filter(|c| c.kind == "speech") {
        let events = live_events(&live, &speech(&clip.file));
        partials += check_partials(&events, &clip.file);
        let live_finals = finals(&events);
        let live_text = joined(&live_finals);
        let (samples, rate) = read_wav_mono(&speech(&clip.file));
        let batch_text = joined(&recognize(&batch, &samples, rate));
        same += usize::from(live_text == batch_text);
        clips += 1;
        live_wer.add(&clip.text, &live_text);
        batch_wer.add(&clip.text, &batch_text);
        // The same front-end, endpointer and decode, but a final checks its last partial's tokens in one batched
        // decoder call: with dynamic int8 activations its numbers differ slightly from one step at a time, and a
        // near-tie can fall the other way (long04: "but a few stayed" / "but if you stayed"). And a final whose
        // last partial was unsure, or whose greedy search misses the first half of that draft, goes to the beam at
        // once, where `transcribe` (no partials) may keep a confident greedy text: then the live final is the beam's
        // (num01: "9.30" / "930"; long01 gains a comma). 27 of the 30 are identical.
        let mut apart = WerCounter::default();
        apart.add(&batch_text, &live_text);
        if apart.errors > 2 {
            let beam_text = joined(&recognize(&beam, &samples, rate));
            assert!(
                live_finals.iter().any(|f| f.beam_fallback) && live_text == beam_text,
                "{}: live {live_text:?} vs transcribe {batch_text:?} (beam 5: {beam_text:?})",
                clip.file
            );
            beam_texts += 1;
        }
    }
    eprintln!(
        "live replay: {same}/{clips} finals identical to transcribe ({beam_texts} more than 2 words apart, each the beam's text); WER live {:.2}% vs transcribe {:.2}%; {partials} partials",
        live_wer.percent(),
        batch_wer.percent()
    );
    assert!(partials > clips * 3, "partials were emitted");
    assert!(
        same + 3 >= clips,
        "{same} of {clips} live finals equal transcribe's"
    );
    assert!(
        beam_texts <= 2,
        "{beam_texts} finals more than 2 words apart"
    );
}

#[test]
fn long_form_live_finals_neither_repeat_nor_drop_words_at_boundaries() {
    // The clean clips back to back, written to a file and replayed through the live path.
    let mut samples = Vec::new();
    let mut reference = Vec::new();
    for clip in corpus().iter().filter(|c| c.kind == "speech") {
        samples.extend(read_wav_mono(&speech(&clip.file)).0);
        samples.extend(std::iter::repeat_n(0.0, 8000));
        reference.push(clip.text.clone());
    }
    let path = std::env::temp_dir().join(format!("earshot-longform-{}.wav", std::process::id()));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    samples.iter().for_each(|&s| w.write_sample(s).unwrap());
    w.finalize().unwrap();
    let events = live_events(&live_recognizer(), &path);
    std::fs::remove_file(&path).unwrap();
    check_partials(&events, "long form");
    let finals = finals(&events);
    for pair in finals.windows(2) {
        let (a, b) = (
            earshot::bench::wer::normalize(&pair[0].text),
            earshot::bench::wer::normalize(&pair[1].text),
        );
        if a.len() >= 3 && b.len() >= 3 {
            assert_ne!(
                a[a.len() - 3..],
                b[..3],
                "words repeated across a boundary: {:?} / {:?}",
                pair[0].text,
                pair[1].text
            );
        }
    }
    let mut wer = WerCounter::default();
    wer.add(&reference.join(" "), &joined(&finals));
    eprintln!(
        "long form live: {} finals, WER {:.2}%",
        finals.len(),
        wer.percent()
    );
    assert!(
        wer.percent() <= 8.0,
        "long-form live WER {:.2}",
        wer.percent()
    );
}

#[test]
fn capture_side_allocates_nothing_after_construction() {
    let model = model();
    let (samples, _) = read_wav_mono(&speech("name04_stereo_48000hz.wav"));
    let interleaved: Vec<f32> = samples.iter().flat_map(|&s| [s, s * 0.5]).collect();
    let as_i16: Vec<i16> = interleaved.iter().map(|&s| (s * 32767.0) as i16).collect();
    let (producer, mut consumer) = frame_ring(20_000);
    let (tap, recorder) = earshot::audio::record(
        &std::env::temp_dir().join(format!("earshot-alloc-{}.wav", std::process::id())),
        48000,
        2,
        30.0,
        true,
    )
    .unwrap();
    let mut capture = CaptureSide::new(&model.manifest().frontend, 48000, 2, producer)
        .unwrap()
        .with_recorder(tap);
    // Callback-sized pieces (480 frames = 10 ms at 48 kHz, stereo), f32 and i16, through resampler, MFCC, ring, tap.
    let count = allocations_during(|| {
        for (i, piece) in interleaved.chunks(960).enumerate() {
            capture.push_f32(piece, i as u64 * 10_000_000);
        }
        for piece in as_i16.chunks(960) {
            capture.push_i16(piece, 0);
        }
        capture.finish(0);
    });
    assert_eq!(count, 0, "the capture side allocated {count} times");
    let mut frames = 0;
    while consumer.pop().is_some() {
        frames += 1;
    }
    assert!(
        frames > 2 * (samples.len() / 3 / 160) - 4,
        "{frames} frames"
    );
    let path = recorder.path().to_path_buf();
    recorder.finish().unwrap();
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_consumer_far_behind_drops_the_oldest_audio_says_where_and_recovers() {
    let model = model();
    let recognizer = live_recognizer();
    let mut stream = recognizer.create_stream();
    let (producer, mut consumer) = frame_ring(400);
    let mut capture = CaptureSide::new(&model.manifest().frontend, 16000, 1, producer).unwrap();
    let stats = capture.stats().clone();
    let (noise, _) = read_wav_mono(&speech("q02.wav"));
    // Nobody consumes: three clips' worth of frames into a 400-frame ring. Every push returns (no blocking); what
    // does not fit is dropped by the producer and counted.
    for _ in 0..3 {
        for piece in noise.chunks(320) {
            capture.push_f32(piece, 0);
        }
    }
    let overruns = stats.overruns.load(Ordering::Relaxed);
    assert!(overruns > 300, "overruns counted: {overruns}");
    // Now the consumer runs and the producer feeds a new utterance, keeping the ring at most half full as the fast
    // file reader does. The consumer first finds a full ring: it drops the oldest 300 frames and resumes on the newest.
    let (speech_samples, _) = read_wav_mono(&speech("cmd04.wav"));
    let producer_thread = std::thread::spawn(move || {
        for piece in speech_samples.chunks(320) {
            while capture.ring_free() < 204 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            capture.push_f32(piece, 0);
        }
        capture.finish(0);
    });
    let mut events = Vec::new();
    let live = run_recognizer(&recognizer, &mut stream, &mut consumer, |e| events.push(e)).unwrap();
    producer_thread.join().unwrap();
    assert_eq!(live.overruns, overruns);
    assert_eq!(live.dropped_oldest, 300);
    let gaps: Vec<&earshot::AudioLost> = events
        .iter()
        .filter_map(|e| match e {
            TranscriptEvent::AudioLost(g) => Some(g),
            _ => None,
        })
        .collect();
    // The oldest 3 s (frames 0..300) went first; then the frames the full ring refused.
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    assert_eq!((gaps[0].start_s, gaps[0].end_s), (0.0, 3.0));
    assert!(
        (gaps[1].end_s - gaps[1].start_s - overruns as f64 * 0.01).abs() < 1e-6,
        "{gaps:?}"
    );
    assert_eq!(gaps[1].lost_frames, 300 + overruns);
    assert_eq!(stream.lost_frames(), 300 + overruns);
    let text = joined(&finals(&events));
    assert!(
        text.contains("Call my sister"),
        "the stream recovered after the gaps: {text:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn capture_path_frames_do_not_depend_on_callback_sizes(chunks in prop::collection::vec(1usize..3000, 1..10)) {
        let model = model();
        let (samples, _) = read_wav_mono(&speech("cmd04_44100hz.wav"));
        let run = |chunks: &[usize]| {
            let (producer, mut consumer) = frame_ring(10_000);
            let mut capture = CaptureSide::new(&model.manifest().frontend, 44100, 1, producer).unwrap();
            let mut rest = samples.as_slice();
            let mut i = 0;
            while !rest.is_empty() {
                let n = chunks[i % chunks.len()].min(rest.len());
                capture.push_f32(&rest[..n], 0);
                rest = &rest[n..];
                i += 1;
            }
            capture.finish(0);
            let mut out = Vec::new();
            while let Some(f) = consumer.pop() {
                out.push((f.index, f.values().to_vec()));
            }
            out
        };
        let whole = run(&[samples.len()]);
        prop_assert!(whole.iter().enumerate().all(|(i, (index, _))| *index == i as u64));
        prop_assert_eq!(whole, run(&chunks));
    }
}

#[test]
fn junk_duplicate_finals_at_a_ring_gap_never_overlap_or_repeat_audio() {
    // Issue 11: long02 six times through a 1000-frame ring gave, after the right final, four more ("your heart", "and
    // Eurex", ...) over the same audio, each shifted by a frame: a full ring drops single frames, and each gap reopened
    // a segment whose pre-roll reached back into audio already finalized.
    let model = model();
    let recognizer = live_recognizer();
    let (audio, rate) = read_wav_mono(&speech("long02.wav"));
    let mut samples = Vec::new();
    for _ in 0..6 {
        samples.extend(&audio);
        samples.extend(std::iter::repeat_n(0.0, rate as usize));
    }
    let (producer, mut consumer) = frame_ring(samples.len() / 100 + 1000);
    let mut capture = CaptureSide::new(&model.manifest().frontend, rate, 1, producer).unwrap();
    capture.push_f32(&samples, 0);
    capture.finish(0);
    let mut stream = recognizer.create_stream();
    let mut events = Vec::new();
    let clip_frames = (audio.len() / 160 + 100) as u64;
    while let Some(frame) = consumer.pop() {
        // During the second and third repetitions a frame in every 40 is lost, as when a full ring refuses pushes.
        if (clip_frames..3 * clip_frames).contains(&frame.index) && frame.index % 40 == 0 {
            continue;
        }
        stream.accept_frame(&frame).unwrap();
        while let Some(e) = recognizer.poll(&mut stream).unwrap() {
            events.push(e);
        }
    }
    stream.input_finished().unwrap();
    while let Some(e) = recognizer.poll(&mut stream).unwrap() {
        events.push(e);
    }
    let finals = finals(&events);
    for pair in finals.windows(2) {
        assert!(
            pair[1].start_s >= pair[0].end_s,
            "finals overlap: {:?} [{:.2}, {:.2}] then {:?} [{:.2}, {:.2}]",
            pair[0].text,
            pair[0].start_s,
            pair[0].end_s,
            pair[1].text,
            pair[1].start_s,
            pair[1].end_s
        );
    }
    // The clean repetitions are transcribed whole, as `transcribe` does it.
    let whole = joined(&recognize(&recognizer_for_files(), &audio, rate));
    let clean: Vec<earshot::Transcript> = finals
        .into_iter()
        .filter(|t| t.start_s >= 3.0 * clip_frames as f64 * 0.01)
        .collect();
    assert_eq!(joined(&clean), [whole.as_str(); 3].join(" "));
}

fn recognizer_for_files() -> Recognizer {
    recognizer("default", None)
}
