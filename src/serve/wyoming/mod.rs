//! The Wyoming adapter (Home Assistant's voice pipeline): one thread per connection, and one [`Session`] per
//! utterance, fed as the audio arrives, so the transcript is ready soon after `audio-stop`. Reading the socket is
//! the backpressure: a client streaming faster than real time waits in TCP flow control, and nothing is dropped.
//! Sessions, limits and shutdown are the [`Core`]'s; this file maps Wyoming's events onto them.
//!
//! A bad client gets an `error` event where the connection still allows it, one log line, and its connection closed;
//! nothing it sends can make the server allocate without bound (see [`Limits`]) or panic, and other connections go
//! on.

mod protocol;

use std::cell::Cell;
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub use protocol::{read_event, write_event, Event, Limits, ProtocolError, PROTOCOL_VERSION};

use super::{request_bias, request_language, AudioFormat, Core, Protocol, ServeOptions, Session};
use crate::decode::{Bias, Prompter};
use crate::error::{Error, Result};
use crate::stream::TranscriptEvent;

/// A bound listening socket: `tcp://HOST:PORT` or `unix://PATH`.
#[derive(Debug)]
pub enum Listener {
    /// A TCP socket.
    Tcp(TcpListener),
    /// A Unix domain socket (removed when the server ends).
    Unix(UnixListener, PathBuf),
}

impl Listener {
    /// Bind `uri`: `tcp://HOST:PORT` (port 0 picks a free one) or `unix://PATH` (a stale socket left by an earlier
    /// run is replaced; a socket a server still answers on, and anything that is not a socket, are refused).
    pub fn bind(uri: &str) -> Result<Listener> {
        let bad = |reason: String| Error::Listen {
            uri: uri.to_string(),
            reason,
        };
        if let Some(address) = uri.strip_prefix("tcp://") {
            TcpListener::bind(address)
                .map(Listener::Tcp)
                .map_err(|e| bad(e.to_string()))
        } else if let Some(path) = uri.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(bad(
                    "no socket path: give unix://PATH, e.g. unix:///run/earshot.sock".into(),
                ));
            }
            let path = PathBuf::from(path);
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_socket() => {
                    if UnixStream::connect(&path).is_ok() {
                        return Err(bad("another server is listening there".into()));
                    }
                    std::fs::remove_file(&path).map_err(|e| bad(e.to_string()))?;
                }
                Ok(_) => {
                    return Err(bad(format!(
                        "{} exists and is not a socket (earshot only replaces a stale socket): remove it or choose \
                         another path",
                        path.display()
                    )))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(bad(e.to_string())),
            }
            UnixListener::bind(&path)
                .map(|l| Listener::Unix(l, path))
                .map_err(|e| bad(e.to_string()))
        } else {
            Err(bad(
                "give tcp://HOST:PORT (e.g. tcp://127.0.0.1:10300) or unix://PATH".into(),
            ))
        }
    }

    /// The address clients connect to (with the port actually bound).
    pub fn uri(&self) -> String {
        match self {
            Listener::Tcp(l) => l
                .local_addr()
                .map_or_else(|_| "tcp://?".into(), |a| format!("tcp://{a}")),
            Listener::Unix(_, path) => format!("unix://{}", path.display()),
        }
    }

    fn set_nonblocking(&self) -> std::io::Result<()> {
        match self {
            Listener::Tcp(l) => l.set_nonblocking(true),
            Listener::Unix(l, _) => l.set_nonblocking(true),
        }
    }

    fn accept(&self) -> std::io::Result<(Connection, String)> {
        match self {
            Listener::Tcp(l) => l
                .accept()
                .map(|(s, peer)| (Connection::Tcp(s), peer.to_string())),
            Listener::Unix(l, path) => l
                .accept()
                .map(|(s, _)| (Connection::Unix(s), path.display().to_string())),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// How often a blocked read wakes to check for shutdown and the idle timeout.
const POLL: Duration = Duration::from_millis(200);

/// How long a closing connection drains what the client still sends, so the close does not reset the connection
/// before the client has read the `error` event.
const LINGER: Duration = Duration::from_millis(500);

/// Refused connections lingering at once (each on a short-lived thread, for at most [`LINGER`]); past this, a refused
/// connection is closed without the `busy` event.
const MAX_REFUSING: usize = 32;

/// The stop request as one connection sees it: an idle connection ends at once; an utterance in flight may finish
/// within the grace period (nothing already heard is lost), and is refused after it.
struct Stopping<'a> {
    core: &'a Core,
    /// An utterance is in flight.
    busy: Cell<bool>,
}

impl Stopping<'_> {
    fn must_end(&self) -> bool {
        self.core.must_end(self.busy.get())
    }
}

/// Why [`Watched`] ended a read: carried inside an `io::Error` of kind `Other`, which the standard library's
/// `read_until` and `read_exact` pass on at once (they retry `Interrupted`, which a stop used to be taken for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum Watch {
    #[error("{SHUTTING_DOWN}")]
    Stop,
    #[error("idle")]
    Idle,
    #[error("event not completed in time")]
    Slow,
}

impl Watch {
    fn of(e: &std::io::Error) -> Option<Watch> {
        e.get_ref()?.downcast_ref::<Watch>().copied()
    }
}

/// Reads the socket, waking every [`POLL`] to end the read when the connection must end for a stop, the client has
/// been idle too long between events, or the event being read has not been completed within its deadline (checked
/// on every read, so bytes trickled in one by one do not keep a connection). A wake-up returns no data.
struct Watched<'a> {
    connection: Connection,
    stopping: &'a Stopping<'a>,
    /// How long the wait for the next event may last.
    wait_limit: Duration,
    event_timeout: Duration,
    /// When the wait for the next event began.
    waiting_since: Instant,
    /// When the event being read must be complete (set by its first byte).
    deadline: Option<Instant>,
}

impl Watched<'_> {
    /// A new event is about to be read, with `wait_limit` for its first byte; `begun`: its first bytes are already
    /// buffered.
    fn next_event(&mut self, wait_limit: Duration, begun: bool) {
        let now = Instant::now();
        self.wait_limit = wait_limit;
        self.waiting_since = now;
        self.deadline = begun.then(|| now + self.event_timeout);
    }
}

impl Read for Watched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(std::io::Error::other(Watch::Slow));
            }
            match self.connection.read(buf) {
                Ok(n) => {
                    if n > 0 && self.deadline.is_none() {
                        self.deadline = Some(Instant::now() + self.event_timeout);
                    }
                    return Ok(n);
                }
                Err(e) if is_timeout(&e) => {
                    if self.stopping.must_end() {
                        return Err(std::io::Error::other(Watch::Stop));
                    }
                    if self.deadline.is_none() && self.waiting_since.elapsed() >= self.wait_limit {
                        return Err(std::io::Error::other(Watch::Idle));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

const SHUTTING_DOWN: &str = "the server is shutting down";

/// One client's socket.
#[derive(Debug)]
enum Connection {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Connection {
    fn try_clone(&self) -> std::io::Result<Connection> {
        Ok(match self {
            Connection::Tcp(s) => Connection::Tcp(s.try_clone()?),
            Connection::Unix(s) => Connection::Unix(s.try_clone()?),
        })
    }

    fn configure(&self, options: &ServeOptions) -> std::io::Result<()> {
        let (read, write) = (Some(POLL), Some(options.write_timeout));
        match self {
            Connection::Tcp(s) => {
                s.set_nonblocking(false)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(read)?;
                s.set_write_timeout(write)
            }
            Connection::Unix(s) => {
                s.set_nonblocking(false)?;
                s.set_read_timeout(read)?;
                s.set_write_timeout(write)
            }
        }
    }

    fn shutdown(&self, how: Shutdown) {
        let _ = match self {
            Connection::Tcp(s) => s.shutdown(how),
            Connection::Unix(s) => s.shutdown(how),
        };
    }
}

impl Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Connection::Tcp(s) => s.read(buf),
            Connection::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Connection {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Connection::Tcp(s) => s.write(buf),
            Connection::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Connection::Tcp(s) => s.flush(),
            Connection::Unix(s) => s.flush(),
        }
    }
}

/// Serve `listener` until the core's stop request, then stop accepting, close idle connections, let utterances in
/// flight finish within [`ServeOptions::shutdown_grace`] (refusing them after it: an `error` event with code
/// `shutting-down`), and return. The core's log gets one line per connection (and per refused one).
pub fn serve(listener: Listener, core: Arc<Core>) -> Result<()> {
    let uri = listener.uri();
    listener.set_nonblocking().map_err(|e| Error::Listen {
        uri: uri.clone(),
        reason: e.to_string(),
    })?;
    let info = Arc::new(info_event(&core));
    let refusing = Arc::new(AtomicUsize::new(0));
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !core.stopping() {
        let (connection, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                workers.retain(|w| !w.is_finished());
                continue;
            }
            Err(e) => {
                core.log(&format!("accept failed: {e}"));
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if connection.configure(core.options()).is_err() {
            continue;
        }
        let slot = match core.admit(Protocol::Wyoming) {
            Ok(slot) => slot,
            Err(text) => {
                core.log(&format!("{peer}: refused: {text}"));
                refuse_busy(connection, text, &refusing);
                continue;
            }
        };
        let job = {
            let (core, info) = (core.clone(), info.clone());
            move || {
                let stopping = Stopping {
                    core: &core,
                    busy: Cell::new(false),
                };
                let summary = Client::new(&core, &stopping, &info).run(connection);
                core.log(&format!("{peer}: {summary}"));
                drop(slot);
            }
        };
        let spawned = std::thread::Builder::new()
            .name("earshot-connection".into())
            .spawn(job);
        match spawned {
            Ok(worker) => workers.push(worker),
            Err(e) => core.log(&format!("cannot start a connection thread: {e}")),
        }
    }
    // Shutting down: no more connections are taken (closing the listener refuses them rather than leaving them
    // unanswered in its backlog); every connection's read wakes within POLL; idle and half-sent ones close,
    // utterances in flight finish within the grace period or are refused.
    drop(listener);
    for worker in workers {
        let _ = worker.join();
    }
    Ok(())
}

/// Send `busy` to a connection past the limit and close it gently (on a short-lived thread: [`linger`] takes up to
/// [`LINGER`], and the accept loop must go on). Past [`MAX_REFUSING`] refusals at once, the connection is just closed.
fn refuse_busy(mut connection: Connection, text: String, refusing: &Arc<AtomicUsize>) {
    if refusing.fetch_add(1, Ordering::SeqCst) >= MAX_REFUSING {
        refusing.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let done = refusing.clone();
    let job = move || {
        if write_event(&mut connection, &error_event("busy", &text)).is_ok() {
            linger(&mut connection);
        }
        done.fetch_sub(1, Ordering::SeqCst);
    };
    if std::thread::Builder::new()
        .name("earshot-refuse".into())
        .spawn(job)
        .is_err()
    {
        // The job (and the connection in it) is dropped: the connection closes without the event.
        refusing.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The `info` answer to `describe`.
fn info_event(core: &Core) -> Event {
    let manifest = core.recognizer().model().manifest();
    let version = env!("CARGO_PKG_VERSION");
    let languages = manifest
        .languages
        .as_ref()
        .map_or_else(|| vec!["en".to_string()], |l| l.codes.clone());
    Event::new(
        "info",
        json!({
            "asr": [{
                "name": "earshot",
                "attribution": {"name": "earshot", "url": "https://github.com/earshot-stt/earshot"},
                "installed": true,
                "description": "Embedded streaming speech-to-text: decodes while the audio arrives",
                "version": version,
                "models": [{
                    "name": manifest.name,
                    "attribution": {"name": "OpenAI (Whisper)", "url": "https://github.com/openai/whisper"},
                    "installed": true,
                    "description": manifest.description,
                    "version": version,
                    "languages": languages,
                }],
                "supports_transcript_streaming": true,
                "requires_external_vad": true,
            }],
            "tts": [], "handle": [], "intent": [], "wake": [], "mic": [], "snd": [],
        }),
    )
}

fn error_event(code: &str, text: &str) -> Event {
    Event::new("error", json!({"text": text, "code": code}))
}

/// The audio format in an `audio-start` or `audio-chunk`'s data, or what is wrong with it; `fallback` fills the
/// fields a chunk leaves out.
fn audio_format(
    data: &serde_json::Map<String, Value>,
    fallback: Option<AudioFormat>,
) -> std::result::Result<AudioFormat, String> {
    let field = |name: &str, fallback: Option<u64>| -> std::result::Result<u64, String> {
        match data.get(name) {
            Some(v) => v
                .as_u64()
                .ok_or_else(|| format!("\"{name}\" {v} is not a whole number")),
            None => fallback.ok_or_else(|| format!("\"{name}\" is missing")),
        }
    };
    let rate = field("rate", fallback.map(|f| u64::from(f.rate)))?;
    let width = field("width", fallback.map(|f| f.width as u64))?;
    let channels = field("channels", fallback.map(|f| f.channels as u64))?;
    AudioFormat::new(rate, width, channels)
}

/// One utterance in flight (`audio-start` seen, `audio-stop` not yet).
struct Utterance {
    session: Session,
    /// The committed text sent so far as `transcript-chunk`s (finals only: a chunk can never be taken back).
    text: String,
    started: bool,
    /// The language the first final was decoded in (reported when the client asked for none).
    spoken: Option<String>,
}

/// What one connection asked for and did.
struct Client<'a> {
    core: &'a Core,
    options: &'a ServeOptions,
    stopping: &'a Stopping<'a>,
    info: &'a Event,
    /// The language of the last `transcribe`, as the client wrote it, and as the prompter its utterance uses.
    language: Option<String>,
    prompter: Option<Arc<Prompter>>,
    /// The `transcript_names` and `transcript_terms` of the last `transcribe`, for the next utterance.
    bias: Option<Arc<Bias>>,
    utterance: Option<Utterance>,
    utterances: usize,
    audio_s: f64,
    latencies_ms: Vec<f64>,
}

/// Why a connection ended, for its log line.
enum End {
    /// The client closed it between utterances.
    Closed,
    /// The client closed its sending side mid-utterance, and was sent the transcript of what it sent.
    ClosedMidUtterance,
    /// The server refused something: an `error` event with this code and text is sent (when it can be).
    Refused(&'static str, String),
    /// The connection failed (a reset, a write that timed out).
    Failed(String),
}

impl<'a> Client<'a> {
    fn new(core: &'a Core, stopping: &'a Stopping<'a>, info: &'a Event) -> Client<'a> {
        Client {
            core,
            options: core.options(),
            stopping,
            info,
            language: None,
            prompter: None,
            bias: None,
            utterance: None,
            utterances: 0,
            audio_s: 0.0,
            latencies_ms: Vec::new(),
        }
    }

    /// Serve the connection to its end; the summary line for the log.
    fn run(mut self, connection: Connection) -> String {
        let mut writer = match connection.try_clone() {
            Ok(writer) => writer,
            Err(e) => return format!("closed: {e}"),
        };
        let options = self.options;
        // The first event must come within the event timeout: a connection that says nothing is not kept for long.
        let first_wait = options.idle_timeout.min(options.event_timeout);
        let mut reader = BufReader::new(Watched {
            connection,
            stopping: self.stopping,
            wait_limit: first_wait,
            event_timeout: options.event_timeout,
            waiting_since: Instant::now(),
            deadline: None,
        });
        let mut first = true;
        let end = loop {
            // Checked between events too: a client streaming audio never leaves its read idle.
            if self.stopping.must_end() {
                break self.shutting_down();
            }
            let (wait_limit, begun) = (
                if first {
                    first_wait
                } else {
                    options.idle_timeout
                },
                !reader.buffer().is_empty(),
            );
            reader.get_mut().next_event(wait_limit, begun);
            first = false;
            let event = match read_event(&mut reader, &options.limits) {
                Ok(Some(event)) => event,
                Ok(None) => break self.end_of_input(&mut writer),
                Err(ProtocolError::Io(e)) => match Watch::of(&e) {
                    Some(Watch::Stop) => break self.shutting_down(),
                    Some(Watch::Idle) => {
                        break End::Refused(
                            "timeout",
                            format!("nothing received for {} s", wait_limit.as_secs()),
                        )
                    }
                    Some(Watch::Slow) => {
                        break End::Refused(
                            "timeout",
                            format!(
                                "an event was not completed within {} s of its first byte",
                                options.event_timeout.as_secs()
                            ),
                        )
                    }
                    None => break End::Failed(e.to_string()),
                },
                Err(e) => break End::Refused("bad-event", format!("{e}")),
            };
            match self.handle(&event, &mut writer) {
                Ok(()) => self.stopping.busy.set(self.utterance.is_some()),
                Err(end) => break end,
            }
        };
        let summary = self.summary();
        match end {
            End::Closed => format!("closed; {summary}"),
            End::ClosedMidUtterance => {
                format!(
                    "closed its side mid-utterance, sent the transcript of what it sent; {summary}"
                )
            }
            End::Refused(code, text) => {
                self.core.metrics().refused(Protocol::Wyoming, code);
                let sent = write_event(&mut writer, &error_event(code, &text));
                linger(&mut reader.get_mut().connection);
                let note = if sent.is_err() {
                    " (the client did not take the error event)"
                } else {
                    ""
                };
                format!("error {code}: {text}{note}; {summary}")
            }
            End::Failed(reason) => format!("connection failed: {reason}; {summary}"),
        }
    }

    /// The client closed its sending side. Between utterances the connection is done; mid-utterance, what it sent is
    /// transcribed as if `audio-stop` had come (a client that half-closes can still read the transcript).
    fn end_of_input(&mut self, writer: &mut Connection) -> End {
        if self.utterance.is_none() {
            return End::Closed;
        }
        match self.handle(&Event::new("audio-stop", json!({})), writer) {
            Ok(()) => End::ClosedMidUtterance,
            Err(_) => End::Failed("the client disconnected mid-utterance".into()),
        }
    }

    /// The server stops: an idle connection just closes; an utterance still in flight after the grace period is
    /// refused.
    fn shutting_down(&self) -> End {
        match self.utterance {
            None => End::Closed,
            Some(_) => End::Refused(
                "shutting-down",
                format!(
                    "{SHUTTING_DOWN}; the utterance was not finished within {} s and was not transcribed",
                    self.options.shutdown_grace.as_secs()
                ),
            ),
        }
    }

    fn summary(&self) -> String {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let pick =
            |q: f64| sorted.get(((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1));
        let latency = match (pick(0.5), pick(0.95)) {
            (Some(p50), Some(p95)) => {
                format!(", audio-stop -> transcript p50 {p50:.0} ms, p95 {p95:.0} ms")
            }
            _ => String::new(),
        };
        format!(
            "{} utterance(s), {:.1} s of audio{latency}",
            self.utterances, self.audio_s
        )
    }

    fn handle(&mut self, event: &Event, writer: &mut Connection) -> std::result::Result<(), End> {
        let write_timeout = self.options.write_timeout;
        let send = |writer: &mut Connection, event: &Event| send(writer, event, write_timeout);
        match event.kind.as_str() {
            "describe" => send(writer, self.info),
            "ping" => send(
                writer,
                &Event::new("pong", Value::Object(event.data.clone())),
            ),
            "transcribe" => {
                let language = event.data.get("language").and_then(Value::as_str);
                self.prompter = language
                    .map(|l| {
                        let task = self.core.recognizer().config().decode.task;
                        request_language(self.core.recognizer(), l, task)
                    })
                    .transpose()
                    .map_err(|e| End::Refused("unsupported-language", e))?;
                self.language = language.map(str::to_string);
                // Home Assistant's entity and area names: the vocabulary of the next utterance.
                let terms: Vec<String> = ["transcript_names", "transcript_terms"]
                    .iter()
                    .filter_map(|key| event.data.get(*key).and_then(Value::as_array))
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                // They come on top of the server's own list (`[vocabulary]`, `--vocabulary`), at its strength; the
                // limits apply to what the client sent.
                self.bias = request_bias(self.core.recognizer(), &terms)
                    .map_err(|e| End::Refused("bad-vocabulary", e))?;
                Ok(())
            }
            "audio-start" => {
                if self.utterance.is_some() {
                    return Err(End::Refused(
                        "bad-sequence",
                        "audio-start inside an utterance (send audio-stop first)".into(),
                    ));
                }
                let format = audio_format(&event.data, None)
                    .map_err(|e| End::Refused("unsupported-audio", e))?;
                // The request's names, else the server's own list, if any.
                let mut session = Session::new(self.core.recognizer(), format, self.bias.clone())
                    .map_err(|e| End::Refused("unsupported-audio", e.to_string()))?;
                session.set_language(self.prompter.clone());
                self.utterance = Some(Utterance {
                    session,
                    text: String::new(),
                    started: false,
                    spoken: None,
                });
                Ok(())
            }
            "audio-chunk" => {
                let Some(utterance) = &mut self.utterance else {
                    return Err(End::Refused(
                        "bad-sequence",
                        "audio-chunk before audio-start".into(),
                    ));
                };
                let expected = utterance.session.format();
                let format = audio_format(&event.data, Some(expected))
                    .map_err(|e| End::Refused("unsupported-audio", e))?;
                if format != expected {
                    return Err(End::Refused("format-changed", format!("audio-chunk is {} Hz, {} bytes, {} channel(s) but audio-start said {} Hz, {} \
                         bytes, {} channel(s)",
                        format.rate,
                        format.width,
                        format.channels,
                        expected.rate,
                        expected.width,
                        expected.channels
                    )));
                }
                let mut finals = Vec::new();
                utterance
                    .session
                    .push_pcm(&event.payload, |e| finals.extend(final_text(e)))
                    .map_err(|e| End::Failed(format!("recognizer: {e}")))?;
                self.send_chunks(finals, writer)
            }
            "audio-stop" => {
                let stopped = Instant::now();
                let Some(mut utterance) = self.utterance.take() else {
                    return Err(End::Refused(
                        "bad-sequence",
                        "audio-stop without audio-start".into(),
                    ));
                };
                let mut finals = Vec::new();
                utterance
                    .session
                    .finish(|e| finals.extend(final_text(e)))
                    .map_err(|e| End::Failed(format!("recognizer: {e}")))?;
                let audio_s = utterance.session.audio_seconds();
                self.audio_s += audio_s;
                self.core.metrics().audio(Protocol::Wyoming, audio_s);
                self.utterance = Some(utterance);
                self.send_chunks(finals, writer)?;
                let Some(utterance) = self.utterance.take() else {
                    return Ok(());
                };
                let language = self.language.clone().or(utterance.spoken);
                let mut data = json!({"text": utterance.text});
                if let Some(language) = &language {
                    data["language"] = json!(language);
                }
                if !utterance.started {
                    send(
                        writer,
                        &Event::new("transcript-start", language_data(&language)),
                    )?;
                }
                send(writer, &Event::new("transcript", data))?;
                self.core
                    .metrics()
                    .latency(Protocol::Wyoming, stopped.elapsed());
                self.latencies_ms
                    .push(stopped.elapsed().as_secs_f64() * 1000.0);
                send(writer, &Event::new("transcript-stop", json!({})))?;
                self.utterances += 1;
                self.language = None;
                self.prompter = None;
                self.bias = None;
                Ok(())
            }
            _ => Ok(()), // unknown event types are ignored, as the protocol asks
        }
    }

    /// Send new finals as `transcript-chunk`s (after `transcript-start`, once per utterance).
    fn send_chunks(
        &mut self,
        finals: Vec<(String, String)>,
        writer: &mut Connection,
    ) -> std::result::Result<(), End> {
        let Some(utterance) = &mut self.utterance else {
            return Ok(());
        };
        for (text, language) in finals {
            utterance.spoken.get_or_insert(language);
            let delta = if utterance.text.is_empty() {
                text
            } else {
                format!(" {text}")
            };
            if !utterance.started {
                send(
                    writer,
                    &Event::new(
                        "transcript-start",
                        language_data(&self.language.clone().or(utterance.spoken.clone())),
                    ),
                    self.options.write_timeout,
                )?;
                utterance.started = true;
            }
            send(
                writer,
                &Event::new("transcript-chunk", json!({"text": delta})),
                self.options.write_timeout,
            )?;
            utterance.text.push_str(&delta);
        }
        Ok(())
    }
}

/// Write `event`; a failure ends the connection (a write that timed out says so).
fn send(writer: &mut Connection, event: &Event, timeout: Duration) -> std::result::Result<(), End> {
    write_event(writer, event).map_err(|e| {
        End::Failed(if is_timeout(&e) {
            format!(
                "write: the client read nothing for {} s (--write-timeout-s)",
                timeout.as_secs()
            )
        } else {
            format!("write: {e}")
        })
    })
}

/// Close our side and read (discarding) what the client still sends, for at most [`LINGER`]: closing a socket with
/// unread data resets the connection, and the client could lose the `error` event just written. The connection's
/// read timeout must be set (it is [`POLL`]).
fn linger(connection: &mut Connection) {
    connection.shutdown(Shutdown::Write);
    let until = Instant::now() + LINGER;
    let mut sink = [0u8; 8192];
    while Instant::now() < until {
        match connection.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if is_timeout(&e) => {}
            Err(_) => break,
        }
    }
}

/// A final's text and language.
fn final_text(event: TranscriptEvent) -> Option<(String, String)> {
    match event {
        TranscriptEvent::Final(t) if !t.text.trim().is_empty() => {
            Some((t.text.trim().to_string(), t.language.code))
        }
        _ => None,
    }
}

fn language_data(language: &Option<String>) -> Value {
    match language {
        Some(language) => json!({"language": language}),
        None => json!({}),
    }
}
