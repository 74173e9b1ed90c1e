//! `earshot serve`: one serving layer, several protocols. A protocol-neutral core ([`Core`]: one shared recognizer,
//! the connection limit, the stop request with its grace period, metrics, one log line per session) and a
//! [`Session`] (one stream of audio at any rate, width and channels -> [`TranscriptEvent`](crate::TranscriptEvent)s),
//! under thin adapters that only parse their protocol and map its events:
//!
//! - [`wyoming`]: Home Assistant's Wyoming protocol over TCP or a Unix socket (a thread per connection);
//! - [`openai`]: OpenAI's `POST /v1/audio/transcriptions` (multipart, every `response_format`, server-sent events),
//!   `GET /v1/models`, `/health` and `/metrics` (Prometheus), on axum;
//! - [`realtime`]: OpenAI's Realtime transcription WebSocket (`/v1/realtime?intent=transcription`).
//!
//! Inference never runs on the network threads: HTTP and WebSocket sessions decode on blocking threads of their
//! own, fed through bounded channels (their backpressure is TCP's).

mod metrics;
pub mod openai;
pub mod realtime;
mod session;
pub mod wyoming;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub use metrics::{Metrics, Protocol};
pub use session::{request_bias, request_language, AudioFormat, Session};
pub use wyoming::Listener;

use crate::error::{Error, Result};
use crate::stream::Recognizer;

/// How the server runs: limits that hold for every protocol.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Sessions served at once over all protocols (a Wyoming connection, an HTTP transcription, a Realtime
    /// WebSocket); one more is refused (`busy`, HTTP 503).
    pub max_connections: usize,
    /// A connection that sends nothing between events for this long is closed (code `timeout`).
    pub idle_timeout: Duration,
    /// A connection must send its first event within this long of connecting, and every event within this long of
    /// its first byte (code `timeout`): a client that trickles bytes cannot hold a connection slot.
    pub event_timeout: Duration,
    /// An HTTP request body (an uploaded file) must arrive within this long (HTTP 408).
    pub request_timeout: Duration,
    /// A client that does not read what the server writes for this long is dropped.
    pub write_timeout: Duration,
    /// After a stop request, how long a session in flight may take to finish; past it, it is refused.
    pub shutdown_grace: Duration,
    /// Size limits for Wyoming events.
    pub limits: wyoming::Limits,
    /// Largest HTTP request body (OpenAI's limit for an uploaded file: 25 MiB).
    pub max_body_bytes: usize,
    /// When set, every HTTP route but `/health` requires `Authorization: Bearer KEY`.
    pub api_key: Option<String>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            max_connections: 8,
            idle_timeout: Duration::from_secs(60),
            event_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            limits: wyoming::Limits::default(),
            max_body_bytes: 25 << 20,
            api_key: None,
        }
    }
}

/// What every adapter shares.
pub struct Core {
    recognizer: Recognizer,
    live: Recognizer,
    options: ServeOptions,
    stop: Arc<AtomicBool>,
    stop_seen: OnceLock<Instant>,
    active: AtomicUsize,
    metrics: Metrics,
    log: Box<dyn Fn(&str) + Send + Sync>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("options", &self.options)
            .field("active", &self.active)
            .finish()
    }
}

impl Core {
    /// A core over `recognizer`, configured as the profile says (its partial results serve the Realtime deltas;
    /// Wyoming and HTTP sessions run without them, as a chunk or a response can never be taken back); `stop` is the
    /// stop request (Ctrl-C, SIGTERM); `log` takes one line per session.
    pub fn new(
        recognizer: Recognizer,
        options: ServeOptions,
        stop: Arc<AtomicBool>,
        log: impl Fn(&str) + Send + Sync + 'static,
    ) -> Result<Arc<Core>> {
        let mut finals_only = recognizer.config().clone();
        finals_only.partials.interval_ms = 0;
        Ok(Arc::new(Core {
            recognizer: recognizer.with_config(finals_only)?,
            live: recognizer,
            options,
            stop,
            stop_seen: OnceLock::new(),
            active: AtomicUsize::new(0),
            metrics: Metrics::new(),
            log: Box::new(log),
        }))
    }

    /// The shared recognizer, finals only.
    pub fn recognizer(&self) -> &Recognizer {
        &self.recognizer
    }

    /// The shared recognizer with the profile's partial results.
    pub fn live_recognizer(&self) -> &Recognizer {
        &self.live
    }

    /// The options.
    pub fn options(&self) -> &ServeOptions {
        &self.options
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Write one line to the log.
    pub fn log(&self, line: &str) {
        (self.log)(line);
    }

    /// True once a stop was requested.
    pub fn stopping(&self) -> bool {
        if !self.stop.load(Ordering::SeqCst) {
            return false;
        }
        self.stop_seen.get_or_init(Instant::now);
        true
    }

    /// A session must end now: the server stops and the session is idle (no audio in flight), or the grace period
    /// is over.
    pub fn must_end(&self, busy: bool) -> bool {
        self.stopping()
            && (!busy
                || self
                    .stop_seen
                    .get()
                    .is_some_and(|seen| seen.elapsed() >= self.options.shutdown_grace))
    }

    /// Sessions open now, over all protocols.
    pub fn sessions_open(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Take a session slot for `protocol`, or the `busy` message when every slot is taken. The slot is given back
    /// when dropped.
    pub fn admit(self: &Arc<Self>, protocol: Protocol) -> std::result::Result<Slot, String> {
        let max = self.options.max_connections;
        let taken = self
            .active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            });
        if taken.is_err() {
            self.metrics.refused(protocol, "busy");
            return Err(format!(
                "the server is busy: it serves {max} session(s) at once (--max-connections)"
            ));
        }
        self.metrics.opened(protocol);
        Ok(Slot {
            core: self.clone(),
            protocol,
        })
    }
}

/// A session slot; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    core: Arc<Core>,
    protocol: Protocol,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.core.active.fetch_sub(1, Ordering::SeqCst);
        self.core.metrics.closed(self.protocol);
    }
}

/// Serve Wyoming on `wyoming` and the OpenAI API on `http` (either or both) until the stop request, then stop
/// accepting, let sessions in flight finish within the grace period, and return.
pub fn serve(
    core: Arc<Core>,
    wyoming: Option<Listener>,
    http: Option<std::net::TcpListener>,
) -> Result<()> {
    let wyoming = match wyoming {
        Some(listener) => {
            let core = core.clone();
            let thread = std::thread::Builder::new()
                .name("earshot-wyoming".into())
                .spawn(move || wyoming::serve(listener, core))
                .map_err(|e| Error::Listen {
                    uri: "wyoming".into(),
                    reason: format!("cannot start its thread: {e}"),
                })?;
            Some(thread)
        }
        None => None,
    };
    let http_result = match http {
        Some(listener) => openai::serve(listener, core.clone()),
        None => Ok(()),
    };
    let wyoming_result = match wyoming {
        Some(thread) => thread
            .join()
            .map_err(|_| Error::ThreadPanicked("wyoming server"))?,
        None => Ok(()),
    };
    http_result.and(wyoming_result)
}
