//! The latency benchmark behind `earshot bench`: a corpus replayed as one continuous stream through the live path
//! (replay thread -> [`CaptureSide`] -> ring -> recognizer thread, exactly what `earshot listen` runs), in real time or
//! as fast as possible, with every stage timed. The report ([`BenchReport`]) keeps the raw measurements and the
//! machine, profile and model identity; it renders as a table, [`compare`] sets two runs side by side, and
//! [`draw_plot`] draws the latency distributions.
//!
//! Latencies follow the definitions in docs/CLI.md (`earshot bench`): first-partial latency is the first partial with
//! text minus the capture time of the segment's first speech frame; the final latency is split into the endpoint wait
//! (capture of the last speech frame to the endpoint decision) and the compute after the endpoint (decision to the
//! final event).
//! RTF is wall time over audio time, as fast as possible.

mod corpus;
mod plot;
mod report;
mod system;
pub mod wer;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use corpus::{Clip, Corpus, CorpusStream, Span};
pub use plot::draw as draw_plot;
pub use report::{compare, BenchReport, Summary};
pub use system::{current_rss_mb, Machine, ProcessUsage};

use crate::audio::{spawn_replay, CaptureSide, Pacing, ReplayOptions};
use crate::config::Profile;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::ring::frame_ring;
use crate::stream::{run_recognizer, Recognizer, TranscriptEvent};
use crate::timings::StageTimes;
use wer::WerCounter;

/// How to run a benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    /// Real-time replay (latencies as a microphone user sees them) or as fast as possible (RTF, throughput).
    pub pacing: Pacing,
    /// Silence after each clip, in ms: long enough for the endpoint rules to close the utterance.
    pub gap_ms: u32,
    /// Repeat the corpus until at least this much audio has streamed (soak runs); 0 = one pass.
    pub min_audio_s: f64,
    /// Decode partial results as the profile says; off, only finals are decoded (as `earshot transcribe` does).
    pub partials: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            pacing: Pacing::RealTime,
            gap_ms: 1500,
            min_audio_s: 0.0,
            partials: true,
        }
    }
}

/// What one clip became.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipResult {
    /// The WAV file.
    pub file: String,
    /// Its reference text, if any.
    pub reference: Option<String>,
    /// The finals whose middle fell in the clip's span (clip audio plus the gap after it), joined.
    pub hypothesis: String,
    /// Span start in seconds of stream audio.
    pub start_s: f64,
    /// Span end (end of the clip's audio).
    pub end_s: f64,
    /// The clip's pause inside an unfinished sentence, in seconds of stream audio (from the manifest's `pause`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_s: Option<(f64, f64)>,
    /// For a clip with a pause: a final of it ended before the pause did (the turn was ended inside the pause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_in_pause: Option<bool>,
}

/// One final, for timelines (soak).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FinalSample {
    /// End of the segment in seconds of stream audio.
    pub audio_s: f64,
    /// Encoder + decoder time of the final decode, ms.
    pub decode_ms: f64,
    /// Compute after the endpoint decision, ms.
    pub compute_after_endpoint_ms: f64,
    /// Endpoint wait, ms (when capture times were known).
    pub endpoint_wait_ms: Option<f64>,
}

/// Resident memory at a point of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RssSample {
    /// Seconds of stream audio done.
    pub audio_s: f64,
    /// Resident set size, MB.
    pub rss_mb: f64,
}

/// Every raw measurement of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawMeasurements {
    /// Per-stage times.
    pub stages: StageTimes,
    /// First-partial latency of each segment that had a partial with text, ms.
    pub first_partial_ms: Vec<f64>,
    /// Every final.
    pub finals: Vec<FinalSample>,
    /// Resident memory after each endpoint.
    pub rss: Vec<RssSample>,
    /// Per clip.
    pub clips: Vec<ClipResult>,
}

/// What the recognizer loop collected.
#[derive(Default)]
struct Collected {
    raw: RawMeasurements,
    finals: Vec<(f64, f64, String)>, // (start_s, end_s, text)
    partials: usize,
}

/// Run `corpus` through the live path with `profile` on `model` (the stream's timing recorder is on for the run).
/// `on_progress` gets the seconds of stream audio done after every endpoint. Setting `stop` ends the input early
/// (Ctrl-C): the report then covers the audio streamed until then.
pub fn run(
    model: Arc<Model>,
    profile: &Profile,
    corpus: &Corpus,
    options: &BenchOptions,
    stop: Arc<AtomicBool>,
    mut on_progress: impl FnMut(f64),
) -> Result<BenchReport> {
    let mut config = profile.recognizer_config();
    if !options.partials {
        config.partials.interval_ms = 0;
    }
    let recognizer = Recognizer::new(model.clone(), config)?;
    let capture_rate = match profile.capture.sample_rate_hz {
        0 => model.manifest().frontend.sample_rate_hz,
        rate => rate,
    };
    let source = CorpusStream::new(corpus, capture_rate, options.gap_ms, options.min_audio_s);
    let spans = source.spans();
    let mut stream = recognizer.create_stream();
    let (producer, mut consumer) = frame_ring(profile.capture.ring_frames);
    let capture = CaptureSide::new(&model.manifest().frontend, capture_rate, 1, producer)?;
    let timings = stream.timings().clone();
    timings.set_enabled(true);

    let usage_before = ProcessUsage::now();
    let started = Instant::now();
    let replay = spawn_replay(
        source,
        capture,
        stream.epoch(),
        ReplayOptions {
            pacing: options.pacing,
            block_ms: profile.capture.period_ms,
            timings: Some(timings.clone()),
        },
        stop,
    )?;
    let mut collected = Collected::default();
    let recognized = run_recognizer(&recognizer, &mut stream, &mut consumer, |event| {
        collect(&mut collected, event, &mut on_progress)
    });
    let replayed = replay
        .join()
        .map_err(|_| Error::ThreadPanicked("benchmark replay"));
    timings.set_enabled(false);
    let stats = recognized?;
    let report = replayed??;
    let wall_s = started.elapsed().as_secs_f64();
    let usage = ProcessUsage::now();

    let mut raw = collected.raw;
    raw.stages = timings.take();
    let spans = spans.lock().map(|s| s.clone()).unwrap_or_default();
    raw.clips = assign_finals(corpus, &spans, &collected.finals);
    let audio_s = report.frames as f64 / f64::from(capture_rate);
    Ok(BenchReport::new(report::RunFacts {
        model: &model,
        profile,
        corpus,
        options,
        capture_rate_hz: capture_rate,
        audio_s,
        wall_s,
        cpu_s: usage.cpu_s - usage_before.cpu_s,
        peak_rss_mb: usage.peak_rss_mb,
        overruns: stats.overruns,
        lost_frames: stream.lost_frames(),
        partials: collected.partials,
        raw,
    }))
}

fn collect(collected: &mut Collected, event: TranscriptEvent, on_progress: &mut impl FnMut(f64)) {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    match event {
        TranscriptEvent::Partial(p) => {
            collected.partials += 1;
            if let Some(latency) = p.first_partial_latency {
                collected.raw.first_partial_ms.push(ms(latency));
            }
        }
        TranscriptEvent::Final(t) => {
            collected.raw.finals.push(FinalSample {
                audio_s: t.end_s,
                decode_ms: ms(t.encoder_time + t.decoder_time),
                compute_after_endpoint_ms: ms(t.compute_after_endpoint),
                endpoint_wait_ms: t.endpoint_wait.map(ms),
            });
            collected.finals.push((t.start_s, t.end_s, t.text));
        }
        TranscriptEvent::Endpoint(e) => {
            if let Some(rss_mb) = current_rss_mb() {
                collected.raw.rss.push(RssSample {
                    audio_s: e.end_s,
                    rss_mb,
                });
            }
            on_progress(e.end_s);
        }
        TranscriptEvent::AudioLost(_) => {}
    }
}

/// Give each final to the clip whose span (clip audio and the gap after it) holds the final's middle; a clip with a
/// pause is cut in it when one of its finals ends before the pause does.
fn assign_finals(
    corpus: &Corpus,
    spans: &[Span],
    finals: &[(f64, f64, String)],
) -> Vec<ClipResult> {
    let mut clips: Vec<ClipResult> = spans
        .iter()
        .map(|span| {
            let clip = &corpus.clips[span.clip];
            let pause_s = clip
                .pause
                .map(|(start, end)| (span.start_s + start, span.start_s + end));
            ClipResult {
                file: clip.path.display().to_string(),
                reference: clip.reference.clone(),
                hypothesis: String::new(),
                start_s: span.start_s,
                end_s: span.end_s,
                pause_s,
                cut_in_pause: pause_s.map(|_| false),
            }
        })
        .collect();
    for (start, end, text) in finals {
        let middle = (start + end) / 2.0;
        let at = spans
            .partition_point(|s| s.start_s <= middle)
            .saturating_sub(1);
        if let Some(clip) = clips.get_mut(at) {
            if let (Some((_, pause_end)), Some(cut)) = (clip.pause_s, clip.cut_in_pause.as_mut()) {
                *cut |= *end < pause_end;
            }
            if !clip.hypothesis.is_empty() {
                clip.hypothesis.push(' ');
            }
            clip.hypothesis.push_str(text);
        }
    }
    clips
}

/// Word errors over the clips that have references.
pub fn word_errors(clips: &[ClipResult]) -> Option<WerCounter> {
    let mut counter = WerCounter::default();
    for clip in clips {
        if let Some(reference) = &clip.reference {
            counter.add(reference, &clip.hypothesis);
        }
    }
    // No reference words (none given, or all empty): no word error rate, rather than a division by zero.
    (counter.words > 0).then_some(counter)
}
