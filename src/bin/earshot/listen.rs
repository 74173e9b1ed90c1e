//! `earshot listen`: a microphone, raw PCM on standard input, or a WAV file replayed, through the capture side and
//! the ring into the recognizer thread; events shown as they come.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use earshot::audio::{
    record, spawn_stdin, spawn_wav_replay, CaptureSide, Pacing, PcmFormat, Recorder, SourceReport,
    WavSource,
};
use earshot::ring::{frame_ring, FrameConsumer, FrameProducer};
use earshot::{
    run_recognizer, Error, LiveStats, Model, Profile, Recognizer, Stream, TranscriptEvent,
};

use crate::args::{ListenArgs, RawFormat};
use crate::view::View;

/// A running input: a reader thread, or a microphone.
enum Input {
    Reader(JoinHandle<earshot::Result<SourceReport>>),
    #[cfg(feature = "mic")]
    Mic(earshot::audio::mic::LiveCapture),
}

/// An input that is running, and what it is.
struct Opened {
    input: Input,
    name: String,
    recorder: Option<Recorder>,
}

type Worker = JoinHandle<(earshot::Result<LiveStats>, f64)>;

pub fn run(args: ListenArgs) -> anyhow::Result<ExitCode> {
    let profile = args.common.load_profile(args.threads, None)?;
    let model = args.common.load_model(&profile)?;
    let recognizer = Recognizer::new(model.clone(), profile.recognizer_config())?;
    let stream = recognizer.create_stream();
    let (producer, consumer) = frame_ring(args.ring_frames.unwrap_or(profile.capture.ring_frames));
    let stop = Arc::new(AtomicBool::new(false));
    let handler_stop = stop.clone();
    ctrlc::set_handler(move || handler_stop.store(true, Ordering::SeqCst))
        .context("cannot install the Ctrl-C handler")?;
    let opened = open_input(&args, &profile, &model, producer, stream.epoch(), &stop)?;
    if !args.common.quiet {
        eprintln!(
            "earshot: listening to {} (profile {}, Ctrl-C to stop)",
            opened.name, profile.name
        );
    }
    let (events, worker) = spawn_recognizer(recognizer, stream, consumer)?;
    let mut view = View::new(args.json);
    let (shown, device_failure, input) = show_events(&mut view, &events, opened.input, &stop);
    let shown = shown.and_then(|_| view.end_line());
    let (live, audio_s) = worker
        .join()
        .map_err(|_| Error::ThreadPanicked("recognizer"))?;
    let source_result = match input {
        Some(Input::Reader(handle)) => handle
            .join()
            .map_err(|_| Error::ThreadPanicked("input"))?
            .map(Some),
        _ => Ok(None),
    };
    let recorded = opened
        .recorder
        .map(|r| (r.path().to_path_buf(), r.dropped_samples(), r.finish()));
    shown?;
    let stats = live?;
    if !args.common.quiet {
        eprintln!(
            "earshot: {audio_s:.1} s of audio, {} final(s), {} frame(s) dropped by the ring, {} oldest frame(s) \
             dropped to catch up",
            view.finals, stats.overruns, stats.dropped_oldest
        );
    }
    if let Some((path, dropped, result)) = recorded {
        let samples = result?;
        if !args.common.quiet {
            eprintln!(
                "earshot: recorded {samples} samples to {} ({dropped} dropped)",
                path.display()
            );
        }
    }
    if let Some(report) = source_result? {
        if report.trailing_bytes > 0 {
            eprintln!(
                "earshot: warning: standard input ended mid-frame; the last {} byte(s) were ignored",
                report.trailing_bytes
            );
        }
    }
    if let Some(reason) = device_failure {
        return Err(Error::Device(format!(
            "input lost mid-stream: {reason} (what was heard so far is above)"
        ))
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

/// Start the input the arguments name, its capture side pushing into `producer` (with a recording tap for
/// `--record`).
fn open_input(
    args: &ListenArgs,
    profile: &Profile,
    model: &Model,
    producer: FrameProducer,
    epoch: Instant,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Opened> {
    let spec = &model.manifest().frontend;
    let mut recorder = None;
    let mut with_tap =
        |capture: CaptureSide, rate: u32, channels: u16| -> anyhow::Result<CaptureSide> {
            Ok(match &args.record {
                Some(path) => {
                    let (tap, rec) = record(path, rate, channels, 10.0)?;
                    recorder = Some(rec);
                    capture.with_recorder(tap)
                }
                None => capture,
            })
        };
    let (input, name) = if let Some(path) = &args.replay {
        let wav = WavSource::open(path)?;
        let rate = wav.sample_rate();
        let capture = with_tap(CaptureSide::new(spec, rate, 1, producer)?, rate, 1)?;
        let pacing = if args.fast {
            Pacing::Fast
        } else {
            Pacing::RealTime
        };
        let reader = spawn_wav_replay(wav, capture, epoch, pacing, stop.clone())?;
        (Input::Reader(reader), path.display().to_string())
    } else if args.stdin {
        let rate = args.rate.unwrap_or(16_000);
        let channels = usize::from(args.channels);
        let capture = with_tap(
            CaptureSide::new(spec, rate, channels, producer)?,
            rate,
            args.channels,
        )?;
        let format = match args.format {
            RawFormat::S16le => PcmFormat::S16le,
            RawFormat::F32le => PcmFormat::F32le,
        };
        let reader = spawn_stdin(format, channels, rate, capture, epoch, stop.clone())?;
        (Input::Reader(reader), "stdin".into())
    } else {
        open_mic(
            args.device.as_deref(),
            &profile.capture,
            spec,
            producer,
            &mut with_tap,
            epoch,
        )?
    };
    Ok(Opened {
        input,
        name,
        recorder,
    })
}

/// The recognizer thread: every event goes to the returned channel; the thread ends when the input has ended.
fn spawn_recognizer(
    recognizer: Recognizer,
    mut stream: Stream,
    mut consumer: FrameConsumer,
) -> anyhow::Result<(mpsc::Receiver<TranscriptEvent>, Worker)> {
    let (events_tx, events_rx) = mpsc::channel::<TranscriptEvent>();
    let worker = std::thread::Builder::new()
        .name("earshot-recognizer".into())
        .spawn(move || {
            let stats = run_recognizer(&recognizer, &mut stream, &mut consumer, |e| {
                let _ = events_tx.send(e);
            });
            (stats, stream.audio_seconds())
        })?;
    Ok((events_rx, worker))
}

/// Show events until the recognizer thread ends. A stop request (Ctrl-C, SIGTERM, a lost device, a closed standard
/// output) stops the input; the recognizer then flushes the last final. Returns the first output error, the device
/// failure and what is left of the input (a reader to join).
fn show_events(
    view: &mut View,
    events: &mpsc::Receiver<TranscriptEvent>,
    input: Input,
    stop: &AtomicBool,
) -> (anyhow::Result<()>, Option<String>, Option<Input>) {
    #[cfg_attr(not(feature = "mic"), allow(unused_mut))]
    let mut input = Some(input);
    let mut device_failure = None;
    let mut shown = Ok(());
    loop {
        match events.recv_timeout(Duration::from_millis(50)) {
            Ok(event) if shown.is_ok() => {
                if let Err(e) = view.show(&event) {
                    shown = Err(e);
                    stop.store(true, Ordering::SeqCst);
                }
            }
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        #[cfg(feature = "mic")]
        if let Some(Input::Mic(capture)) = &input {
            if let Some(e) = capture.error() {
                device_failure = Some(e);
                stop.store(true, Ordering::SeqCst);
            }
        }
        // Stopping the microphone ends the capture side's stream (readers watch `stop` themselves).
        #[cfg(feature = "mic")]
        if stop.load(Ordering::SeqCst) {
            if let Some(Input::Mic(capture)) = input.take() {
                capture.stop();
            }
        }
    }
    (shown, device_failure, input)
}

#[cfg(feature = "mic")]
fn open_mic(
    device: Option<&str>,
    capture: &earshot::CaptureConfig,
    spec: &earshot::features::FrontendSpec,
    producer: FrameProducer,
    with_tap: &mut dyn FnMut(CaptureSide, u32, u16) -> anyhow::Result<CaptureSide>,
    epoch: Instant,
) -> anyhow::Result<(Input, String)> {
    let mic =
        earshot::audio::mic::Microphone::open(device, capture.sample_rate_hz, capture.period_ms)?;
    let (rate, channels, name, format) = (
        mic.sample_rate(),
        mic.channels(),
        mic.name(),
        mic.sample_format(),
    );
    let capture = with_tap(
        CaptureSide::new(spec, rate, usize::from(channels), producer)?,
        rate,
        channels,
    )?;
    Ok((
        Input::Mic(mic.start(capture, epoch)?),
        format!("{name} ({channels} ch, {rate} Hz, {format})"),
    ))
}

#[cfg(not(feature = "mic"))]
fn open_mic(
    _: Option<&str>,
    _: &earshot::CaptureConfig,
    _: &earshot::features::FrontendSpec,
    _: FrameProducer,
    _: &mut dyn FnMut(CaptureSide, u32, u16) -> anyhow::Result<CaptureSide>,
    _: Instant,
) -> anyhow::Result<(Input, String)> {
    anyhow::bail!(Error::Device(
        "built without the `mic` feature: use --stdin or --replay".into()
    ))
}
