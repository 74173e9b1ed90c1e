//! `earshot listen`: a microphone, raw PCM on standard input, or a WAV file replayed, through the capture side and
//! the ring into the recognizer thread; events shown as they come.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use earshot::audio::{
    record, spawn_stdin, spawn_wav_replay, CaptureSide, Pacing, PcmFormat, Recorder, SourceReport,
    WavSource,
};
use earshot::ring::{frame_ring, FrameConsumer, FrameProducer, RingStats};
use earshot::{
    run_recognizer, Error, LiveStats, Model, Profile, Recognizer, Stream, TranscriptEvent,
};

use crate::args::{ListenArgs, Overrides, RawFormat};
use crate::same_file;
use crate::view::View;
use crate::StopSignal;

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
    // First: a signal while the profile, term list or model loads (slow on a busy board, or blocked on a FIFO) ends
    // the process at once, saying so.
    let signal = StopSignal::install()?;
    let mut profile = args.common.load_profile(Overrides {
        threads: args.threads,
        ring_frames: args.ring_frames,
        ..Overrides::default()
    })?;
    args.vocabulary.apply(&mut profile)?;
    let model = args.common.load_model(&profile)?;
    let recognizer = Recognizer::new(model.clone(), profile.recognizer_config())?;
    let stream = recognizer.create_stream();
    let (producer, consumer) = frame_ring(profile.capture.ring_frames);
    let ring = producer.stats().clone();
    signal.running();
    let stop = signal.stop;
    let Some(opened) = open_input(&args, &profile, &model, producer, stream.epoch(), &stop)? else {
        say!("earshot: stopped before the input opened; nothing was heard");
        return Ok(ExitCode::SUCCESS);
    };
    if !args.common.quiet {
        say!(
            "earshot: listening to {} (profile {}, Ctrl-C to stop)",
            opened.name,
            profile.name
        );
    }
    let (events, worker) = spawn_recognizer(recognizer, stream, consumer)?;
    let mut view = View::new(args.json);
    let (shown, device_failure, input) =
        show_events(&mut view, &events, opened.input, &stop, &ring);
    let shown = shown.and_then(|_| view.end_line());
    let (live, audio_s) = worker
        .join()
        .map_err(|_| Error::ThreadPanicked("recognizer"))?;
    let source_result = match input {
        // A reader still blocked on its input after a stop is left behind (the process ends).
        Some(Input::Reader(handle)) if handle.is_finished() => handle
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
        say!(
            "earshot: {audio_s:.1} s of audio, {} final(s), {} frame(s) dropped by the ring, {} oldest frame(s) \
             dropped to catch up",
            view.finals, stats.overruns, stats.dropped_oldest
        );
    }
    if let Some((path, dropped, result)) = recorded {
        let samples = result?;
        if !args.common.quiet {
            say!(
                "earshot: recorded {samples} samples to {} ({dropped} dropped)",
                path.display()
            );
        }
    }
    if let Some(report) = source_result? {
        if report.trailing_bytes > 0 {
            say!(
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
/// `--record`). `None`: stopped while waiting for the input to open.
fn open_input(
    args: &ListenArgs,
    profile: &Profile,
    model: &Model,
    producer: FrameProducer,
    epoch: Instant,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Option<Opened>> {
    let spec = &model.manifest().frontend;
    if let Some(path) = &args.record {
        refuse_recording_onto_input(path, args)?;
    }
    let mut recorder = None;
    let mut with_tap =
        |capture: CaptureSide, rate: u32, channels: u16| -> anyhow::Result<CaptureSide> {
            Ok(match &args.record {
                Some(path) => {
                    let (tap, rec) = record(path, rate, channels, 10.0, args.force)?;
                    recorder = Some(rec);
                    capture.with_recorder(tap)
                }
                None => capture,
            })
        };
    let (input, name) = if let Some(path) = &args.replay {
        let Some(wav) = open_wav(path, stop)? else {
            return Ok(None);
        };
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
            RawFormat::S24le => PcmFormat::S24le,
            RawFormat::S32le => PcmFormat::S32le,
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
    Ok(Some(Opened {
        input,
        name,
        recorder,
    }))
}

/// Open the replay file on a helper thread: opening a FIFO blocks until a writer comes, and reading its header until
/// it writes, and a stop request must still end the run. `None`: stopped first.
fn open_wav(path: &Path, stop: &AtomicBool) -> anyhow::Result<Option<WavSource>> {
    let (tx, rx) = mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::Builder::new()
        .name("earshot-open".into())
        .spawn(move || {
            let _ = tx.send(WavSource::open(&owned)); // the receiver is gone after a stop
        })?;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(opened) => return Ok(Some(opened?)),
            Err(mpsc::RecvTimeoutError::Timeout) if stop.load(Ordering::SeqCst) => return Ok(None),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::ThreadPanicked("input").into())
            }
        }
    }
}

/// `--record` must not name the file being read (compared by device and inode, so other names for it count).
fn refuse_recording_onto_input(record: &Path, args: &ListenArgs) -> anyhow::Result<()> {
    let Ok(target) = std::fs::metadata(record) else {
        return Ok(()); // does not exist yet: cannot be the input
    };
    let input = match &args.replay {
        Some(path) => std::fs::metadata(path).ok(),
        None if args.stdin => stdin_metadata(),
        None => None,
    };
    if input.is_some_and(|input| same_file(&input, &target)) {
        anyhow::bail!(Error::Audio {
            path: record.to_path_buf(),
            reason: "is the input being read: recording onto it would destroy it; record to another file".into(),
        });
    }
    Ok(())
}

#[cfg(unix)]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    std::fs::metadata("/dev/stdin").ok()
}

#[cfg(not(unix))]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    None
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

/// How long a reader may take to notice a stop request before the ring's input is ended without it (a read blocked
/// on an idle pipe or FIFO never returns to check).
const READER_GRACE: Duration = Duration::from_millis(200);

/// Show events until the recognizer thread ends. A stop request (Ctrl-C, SIGTERM, a lost device, a closed standard
/// output) stops the input; the recognizer then flushes the last final. Returns the first output error, the device
/// failure and what is left of the input (a reader to join).
fn show_events(
    view: &mut View,
    events: &mpsc::Receiver<TranscriptEvent>,
    input: Input,
    stop: &AtomicBool,
    ring: &RingStats,
) -> (anyhow::Result<()>, Option<String>, Option<Input>) {
    #[cfg_attr(not(feature = "mic"), allow(unused_mut))]
    let mut input = Some(input);
    #[cfg_attr(not(feature = "mic"), allow(unused_mut))]
    let mut device_failure = None;
    let mut shown = Ok(());
    let mut stopped_at: Option<Instant> = None;
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
        if stop.load(Ordering::SeqCst) {
            let since = *stopped_at.get_or_insert_with(Instant::now);
            match &input {
                Some(Input::Reader(reader))
                    if !reader.is_finished() && since.elapsed() >= READER_GRACE =>
                {
                    ring.end_input()
                }
                // Stopping the microphone ends the capture side's stream.
                #[cfg(feature = "mic")]
                Some(Input::Mic(_)) => {
                    if let Some(Input::Mic(capture)) = input.take() {
                        capture.stop();
                    }
                }
                _ => {}
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
