//! The OpenAI Realtime adapter: a transcription session over a WebSocket (`GET /v1/realtime?intent=transcription`).
//!
//! Client events: `session.update` (`session.type` `transcription`; `audio.input.format` `audio/pcm` at 24000 or
//! 16000 Hz; `audio.input.transcription` `{model, language, prompt}`; `audio.input.turn_detection` `server_vad` or
//! `null`), the older beta `transcription_session.update` (`input_audio_format: "pcm16"`,
//! `input_audio_transcription`, `turn_detection`), `input_audio_buffer.append` (base64 PCM16), `.commit`, `.clear`.
//! Server events: `session.created` / `session.updated` (or the beta names), `input_audio_buffer.speech_started` /
//! `speech_stopped` / `committed` / `cleared`, `conversation.item.input_audio_transcription.delta` (committed text
//! only: a delta is never taken back) and `.completed`, and `error` (the connection stays up, as OpenAI's does).
//!
//! With `server_vad` (the default), earshot's endpointer ends each turn (`silence_duration_ms` is its trailing
//! silence); with `turn_detection: null`, the client's `commit` ends it. The audio is decoded on a thread of the
//! session's own, fed through a bounded channel: a client appending faster than real time waits in TCP flow control.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::openai::ApiError;
use super::{request_bias, request_language, AudioFormat, Core, Protocol, Session, Slot};
use crate::decode::{Bias, Prompter};
use crate::stream::{EndpointConfig, Recognizer, TranscriptEvent, TurnDetector};

/// Sessions started by this process (their ids).
static SESSIONS: AtomicU64 = AtomicU64::new(0);

/// Largest WebSocket message (an `append` of 1 MiB of base64 is 16 s of 24 kHz audio).
const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// `GET /v1/realtime`: take a session slot, then upgrade.
pub async fn upgrade(
    State(core): State<Arc<Core>>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(intent) = query.get("intent").filter(|i| *i != "transcription") {
        core.metrics()
            .refused(Protocol::Realtime, "unsupported_intent");
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_intent",
            format!(
                "intent {intent:?}: earshot serves transcription sessions (?intent=transcription)"
            ),
        )
        .into_response();
    }
    let slot = match core.admit(Protocol::Realtime) {
        Ok(slot) => slot,
        Err(text) => {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", text).into_response()
        }
    };
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| run(core, slot, socket))
}

/// What the decoding thread is told.
enum Input {
    Audio(Vec<u8>),
    Commit,
    Clear,
    Configure(Settings),
}

/// A session's settings, from `session.update`.
#[derive(Clone)]
struct Settings {
    rate: u32,
    /// `None`: turns end when the client commits.
    turns: Option<TurnDetection>,
    bias: Option<Arc<Bias>>,
    language: Option<String>,
    /// The prompter of `language` (`None`: the recognizer's own rule).
    prompter: Option<Arc<Prompter>>,
    model: String,
    prompt: String,
    /// The client speaks the older beta protocol (`transcription_session.*`).
    beta: bool,
}

/// How a session's turns end without commits.
#[derive(Clone, Copy)]
enum TurnDetection {
    /// `server_vad`: the silence rule, after this many milliseconds.
    Silence(u32),
    /// `semantic_vad`: the text end-of-turn detector with the eagerness's check and long wait.
    Semantic {
        eagerness: &'static str,
        check_ms: u32,
        wait_ms: u32,
    },
}

impl TurnDetection {
    /// The profile's own rule.
    fn of(config: &EndpointConfig) -> TurnDetection {
        match config.detector {
            TurnDetector::Silence => TurnDetection::Silence(config.trailing_silence_ms),
            TurnDetector::Text => TurnDetection::Semantic {
                eagerness: "auto",
                check_ms: config.turn_check_ms,
                wait_ms: config.incomplete_wait_ms,
            },
        }
    }

    /// `semantic_vad`'s eagerness: `low` waits longer both before judging and for an unfinished sentence, `high`
    /// ends unfinished sentences sooner, `medium` and `auto` keep the profile's waits.
    fn semantic(eagerness: &str, profile: &EndpointConfig) -> Option<TurnDetection> {
        let (eagerness, check_ms, wait_ms) = match eagerness {
            "low" => ("low", 500, 2_500),
            "medium" => ("medium", profile.turn_check_ms, profile.incomplete_wait_ms),
            "auto" => ("auto", profile.turn_check_ms, profile.incomplete_wait_ms),
            "high" => (
                "high",
                profile.turn_check_ms,
                800.max(profile.turn_check_ms),
            ),
            _ => return None,
        };
        Some(TurnDetection::Semantic {
            eagerness,
            check_ms,
            wait_ms,
        })
    }

    fn json(&self) -> Value {
        match *self {
            TurnDetection::Silence(ms) => {
                json!({"type": "server_vad", "silence_duration_ms": ms, "prefix_padding_ms": 300,
                               "threshold": 0.5})
            }
            TurnDetection::Semantic { eagerness, .. } => {
                json!({"type": "semantic_vad", "eagerness": eagerness})
            }
        }
    }

    /// `endpoint` with this rule.
    fn apply(&self, endpoint: &EndpointConfig) -> EndpointConfig {
        let mut endpoint = endpoint.clone();
        let detector = match *self {
            TurnDetection::Silence(ms) => {
                endpoint.trailing_silence_ms = ms;
                TurnDetector::Silence
            }
            TurnDetection::Semantic {
                check_ms, wait_ms, ..
            } => {
                endpoint.turn_check_ms = check_ms;
                endpoint.incomplete_wait_ms = wait_ms;
                TurnDetector::Text
            }
        };
        endpoint.with_detector(detector)
    }
}

impl Settings {
    fn session_json(&self, id: &str) -> Value {
        let turn_detection = self.turns.as_ref().map_or(Value::Null, TurnDetection::json);
        let transcription =
            json!({"model": self.model, "language": self.language, "prompt": self.prompt});
        if self.beta {
            return json!({"id": id, "object": "realtime.transcription_session",
                "input_audio_format": if self.rate == 24_000 { "pcm16" } else { "pcm16_16000" },
                "input_audio_transcription": transcription, "turn_detection": turn_detection});
        }
        json!({"type": "transcription", "id": id, "object": "realtime.transcription_session",
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": self.rate},
                                "transcription": transcription, "turn_detection": turn_detection}}})
    }
}

/// Ids for events and items.
struct Ids(u64);

impl Ids {
    fn next(&mut self, prefix: &str) -> String {
        self.0 += 1;
        format!("{prefix}_{:012}", self.0)
    }
}

/// An `error` event in OpenAI's shape.
fn error_event(code: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": "invalid_request_error", "code": code, "message": message}})
}

async fn run(core: Arc<Core>, slot: Slot, mut socket: WebSocket) {
    let started = Instant::now();
    let model = core.recognizer().model().manifest().name.clone();
    let mut settings = Settings {
        rate: 24_000,
        turns: Some(TurnDetection::of(&core.live_recognizer().config().endpoint)),
        bias: None,
        language: None,
        prompter: None,
        model,
        prompt: String::new(),
        beta: false,
    };
    let mut ids = Ids(0);
    let session_id = format!("sess_{:012}", SESSIONS.fetch_add(1, Ordering::Relaxed) + 1);
    let (to_worker, from_reader) = mpsc::channel::<Input>(32);
    let (to_writer, mut from_worker) = mpsc::channel::<Value>(256);
    let worker = {
        let (core, settings) = (core.clone(), settings.clone());
        tokio::task::spawn_blocking(move || decode(core, settings, from_reader, to_writer))
    };
    // Before the client's first update nothing says which spelling it speaks: the current one.
    let created = json!({"type": "session.created", "session": settings.session_json(&session_id)});
    let mut end = send(&mut socket, &mut ids, created).await.err();
    let mut last_message = Instant::now();
    // A turn is in flight: speech started and not completed (server VAD), or audio appended since the last commit.
    let mut busy = false;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    while end.is_none() {
        tokio::select! {
            incoming = socket.recv() => {
                last_message = Instant::now();
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(Message::Binary(_))) => {
                        end = send(&mut socket, &mut ids, error_event("invalid_event",
                            "binary messages are not events: send JSON text events")).await.err();
                        continue;
                    }
                    Some(Ok(Message::Close(_))) | None => { end = Some("closed".into()); continue; }
                    Some(Ok(_)) => continue, // ping and pong
                    Some(Err(e)) => { end = Some(format!("failed: {e}")); continue; }
                };
                match handle(&core, &text, &mut settings, &mut busy) {
                    Ok(Some(input)) => {
                        if let Input::Configure(s) = &input {
                            let kind = if s.beta { "transcription_session.updated" } else { "session.updated" };
                            let updated = json!({"type": kind, "session": s.session_json(&session_id)});
                            end = send(&mut socket, &mut ids, updated).await.err();
                        }
                        if to_worker.send(input).await.is_err() {
                            end = Some("the decoding thread ended".into());
                        }
                    }
                    Ok(None) => {}
                    Err(error) => {
                        core.metrics().refused(Protocol::Realtime, error["error"]["code"].as_str().unwrap_or("error"));
                        end = send(&mut socket, &mut ids, error).await.err();
                    }
                }
            }
            event = from_worker.recv() => match event {
                Some(event) => {
                    match event["type"].as_str() {
                        Some("input_audio_buffer.speech_started") => busy = true,
                        Some("conversation.item.input_audio_transcription.completed") => busy = false,
                        _ => {}
                    }
                    end = send(&mut socket, &mut ids, event).await.err();
                }
                None => end = Some("the decoding thread ended".into()),
            },
            _ = tick.tick() => {
                if core.must_end(busy) {
                    let message = if busy {
                        "the server is shutting down; the turn in flight was not finished within the grace period"
                    } else {
                        "the server is shutting down"
                    };
                    let _ = send(&mut socket, &mut ids, error_event("shutting_down", message)).await;
                    end = Some("closed for the shutdown".into());
                } else if last_message.elapsed() >= core.options().idle_timeout {
                    let message = format!("nothing received for {} s", core.options().idle_timeout.as_secs());
                    core.metrics().refused(Protocol::Realtime, "timeout");
                    let _ = send(&mut socket, &mut ids, error_event("timeout", &message)).await;
                    end = Some(message);
                }
            }
        }
    }
    let _ = socket.send(Message::Close(None)).await;
    drop(to_worker);
    let stats = worker.await.unwrap_or_default();
    core.log(&format!(
        "realtime {session_id}: {}; {} turn(s), {:.1} s of audio in {:.1} s",
        end.unwrap_or_default(),
        stats.turns,
        stats.audio_s,
        started.elapsed().as_secs_f64()
    ));
    drop(slot);
}

async fn send(socket: &mut WebSocket, ids: &mut Ids, mut event: Value) -> Result<(), String> {
    event["event_id"] = json!(ids.next("event"));
    socket
        .send(Message::Text(event.to_string().into()))
        .await
        .map_err(|e| format!("write failed: {e}"))
}

/// One client event: what the decoding thread must do, or an `error` event for the client.
fn handle(
    core: &Core,
    text: &str,
    settings: &mut Settings,
    busy: &mut bool,
) -> Result<Option<Input>, Value> {
    let event: Value = serde_json::from_str(text)
        .map_err(|e| error_event("invalid_json", &format!("the event is not JSON: {e}")))?;
    let kind = event["type"].as_str().unwrap_or_default();
    match kind {
        "session.update" | "transcription_session.update" => {
            let beta = kind == "transcription_session.update";
            update(core, &event["session"], settings, beta)?;
            Ok(Some(Input::Configure(settings.clone())))
        }
        "input_audio_buffer.append" => {
            let audio = event["audio"].as_str().ok_or_else(|| {
                error_event(
                    "invalid_audio",
                    "input_audio_buffer.append needs `audio`: base64 PCM16",
                )
            })?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(audio)
                .map_err(|e| {
                    error_event(
                        "invalid_audio",
                        &format!("`audio` is not valid base64: {e}"),
                    )
                })?;
            if settings.turns.is_none() {
                *busy = true;
            }
            Ok(Some(Input::Audio(bytes)))
        }
        "input_audio_buffer.commit" => Ok(Some(Input::Commit)),
        "input_audio_buffer.clear" => {
            *busy = false;
            Ok(Some(Input::Clear))
        }
        "" => Err(error_event("invalid_event", "the event has no `type`")),
        other => Err(error_event(
            "unknown_event",
            &format!(
                "unknown event type {other:?}: a transcription session takes session.update, \
                 input_audio_buffer.append, input_audio_buffer.commit and input_audio_buffer.clear"
            ),
        )),
    }
}

/// Apply a `session.update` (or the beta `transcription_session.update`) to `settings`.
fn update(core: &Core, session: &Value, settings: &mut Settings, beta: bool) -> Result<(), Value> {
    let bad = |message: String| error_event("invalid_session", &message);
    let (format, transcription, turn_detection) = if beta {
        let format = match session.get("input_audio_format").and_then(Value::as_str) {
            None | Some("pcm16") => None,
            Some(other) => {
                return Err(bad(format!(
                    "input_audio_format {other:?}: earshot takes pcm16 (24 kHz)"
                )))
            }
        };
        (
            format,
            session.get("input_audio_transcription"),
            session.get("turn_detection"),
        )
    } else {
        if let Some(kind) = session.get("type").and_then(Value::as_str) {
            if kind != "transcription" {
                return Err(bad(format!(
                    "session.type {kind:?}: earshot serves transcription sessions"
                )));
            }
        }
        let input = &session["audio"]["input"];
        let format = match input.get("format") {
            None | Some(Value::Null) => None,
            Some(format) => {
                let kind = format["type"].as_str().unwrap_or("audio/pcm");
                let rate = format["rate"].as_u64().unwrap_or(24_000);
                if kind != "audio/pcm" || !(rate == 24_000 || rate == 16_000) {
                    return Err(bad(format!(
                        "audio format {kind} at {rate} Hz: earshot takes audio/pcm at 24000 or 16000 Hz"
                    )));
                }
                Some(rate as u32)
            }
        };
        (
            format,
            input.get("transcription"),
            input.get("turn_detection"),
        )
    };
    if let Some(rate) = format {
        settings.rate = rate;
    }
    settings.beta = beta;
    if let Some(t) = transcription.filter(|t| !t.is_null()) {
        if let Some(language) = t["language"].as_str().filter(|l| !l.is_empty()) {
            let task = core.recognizer().config().decode.task;
            let prompter = request_language(core.recognizer(), language, task)
                .map_err(|e| error_event("unsupported_language", &e))?;
            settings.prompter = Some(prompter);
            settings.language = Some(language.to_string());
        }
        if let Some(model) = t["model"].as_str() {
            settings.model = model.to_string();
        }
        if let Some(prompt) = t["prompt"].as_str() {
            settings.prompt = prompt.to_string();
            let terms = super::openai::prompt_terms(prompt);
            settings.bias = request_bias(core.recognizer(), &terms)
                .map_err(|e| error_event("invalid_prompt", &format!("prompt terms: {e}")))?;
        }
    }
    match turn_detection {
        None => {}
        Some(Value::Null) => settings.turns = None,
        Some(vad) => {
            let profile = &core.live_recognizer().config().endpoint;
            settings.turns = Some(match vad["type"].as_str().unwrap_or("server_vad") {
                "server_vad" => {
                    let ms = vad["silence_duration_ms"]
                        .as_u64()
                        .unwrap_or(u64::from(profile.trailing_silence_ms));
                    TurnDetection::Silence(ms.clamp(100, 10_000) as u32)
                }
                "semantic_vad" => {
                    let eagerness = vad["eagerness"].as_str().unwrap_or("auto");
                    TurnDetection::semantic(eagerness, profile).ok_or_else(|| {
                        bad(format!(
                            "turn_detection.eagerness {eagerness:?}: use low, medium, high or auto"
                        ))
                    })?
                }
                kind => {
                    return Err(bad(format!(
                        "turn_detection {kind:?}: earshot takes server_vad, semantic_vad or null"
                    )))
                }
            });
        }
    }
    Ok(())
}

/// What the decoding thread did, for the log line.
#[derive(Debug, Default)]
struct Stats {
    turns: usize,
    audio_s: f64,
}

/// The decoding thread: one [`Session`] per turn (server VAD: one for the whole connection until a commit or a
/// clear), events to the writer.
fn decode(
    core: Arc<Core>,
    settings: Settings,
    mut inputs: mpsc::Receiver<Input>,
    events: mpsc::Sender<Value>,
) -> Stats {
    let mut turns = Turns::new(core, settings, events);
    while let Some(input) = inputs.blocking_recv() {
        let done = match input {
            Input::Audio(bytes) => turns.audio(&bytes),
            Input::Commit => turns.commit(),
            Input::Clear => turns.clear(),
            Input::Configure(settings) => turns.configure(settings),
        };
        if done.is_err() {
            break; // the writer is gone
        }
    }
    turns.end_session();
    turns.stats
}

/// The writer is gone.
struct Gone;

/// The live recognizer with `settings`' trailing silence (server VAD), or why it could not be made.
fn recognizer_for(core: &Core, settings: &Settings) -> std::result::Result<Recognizer, String> {
    let mut config = core.live_recognizer().config().clone();
    if let Some(turns) = &settings.turns {
        config.endpoint = turns.apply(&config.endpoint);
    }
    core.live_recognizer()
        .with_config(config)
        .map_err(|e| e.to_string())
}

/// The turn in progress and the ones before.
struct Turns {
    core: Arc<Core>,
    settings: Settings,
    /// The shared recognizer with the settings' endpoint rule (or why it could not be made), rebuilt when they change.
    recognizer: std::result::Result<Recognizer, String>,
    events: mpsc::Sender<Value>,
    session: Option<Session>,
    /// Audio bytes since the last commit or clear.
    pending_bytes: usize,
    /// Stream audio before the current session, ms.
    offset_ms: f64,
    ids: Ids,
    previous_item: Option<String>,
    /// The open item: its id and the committed text already sent as deltas.
    item: Option<(String, String)>,
    /// Finals of the turn (client-committed turns), joined at the commit.
    finals: Vec<String>,
    stats: Stats,
}

impl Turns {
    fn new(core: Arc<Core>, settings: Settings, events: mpsc::Sender<Value>) -> Turns {
        Turns {
            recognizer: recognizer_for(&core, &settings),
            core,
            settings,
            events,
            session: None,
            pending_bytes: 0,
            offset_ms: 0.0,
            ids: Ids(0),
            previous_item: None,
            item: None,
            finals: Vec::new(),
            stats: Stats::default(),
        }
    }

    fn emit(&self, event: Value) -> Result<(), Gone> {
        self.events.blocking_send(event).map_err(|_| Gone)
    }

    fn session(&mut self) -> Result<&mut Session, Gone> {
        if self.session.is_none() {
            let format = AudioFormat {
                rate: self.settings.rate,
                width: 2,
                channels: 1,
            };
            let session = self.recognizer.clone().and_then(|r| {
                let mut session = Session::new(&r, format, self.settings.bias.clone())
                    .map_err(|e| e.to_string())?;
                session.set_language(self.settings.prompter.clone());
                Ok(session)
            });
            match session {
                Ok(session) => self.session = Some(session),
                Err(e) => return Err(self.server_error(&e)),
            }
        }
        self.session.as_mut().ok_or(Gone)
    }

    fn configure(&mut self, settings: Settings) -> Result<(), Gone> {
        self.recognizer = recognizer_for(&self.core, &settings);
        self.settings = settings;
        if self.pending_bytes == 0 {
            self.end_session(); // the next audio starts a session with the new settings
        }
        Ok(())
    }

    fn audio(&mut self, bytes: &[u8]) -> Result<(), Gone> {
        self.pending_bytes += bytes.len();
        let mut events = Vec::new();
        let pushed = self.session()?.push_pcm(bytes, |e| events.push(e));
        self.on_events(events)?;
        pushed.map_err(|e| self.server_error(&e.to_string()))
    }

    fn server_error(&self, message: &str) -> Gone {
        let _ = self.emit(
            json!({"type": "error", "error": {"type": "server_error", "code": "server_error",
                                                          "message": message}}),
        );
        Gone
    }

    /// The client ends the turn: everything heard since the last commit is decoded and completed.
    fn commit(&mut self) -> Result<(), Gone> {
        if self.pending_bytes == 0 {
            return self.emit(error_event(
                "input_audio_buffer_commit_empty",
                "the input audio buffer is empty: append audio before committing",
            ));
        }
        if self.pending_bytes % 2 == 1 {
            self.emit(error_event(
                "invalid_audio",
                "the buffer ends in half a PCM16 sample (an odd number of bytes); the last byte was dropped",
            ))?;
        }
        let committed = Instant::now();
        let turns_before = self.stats.turns;
        let mut events = Vec::new();
        if let Some(session) = &mut self.session {
            let finished = session.finish(|e| events.push(e));
            self.on_events(events)?;
            finished.map_err(|e| self.server_error(&e.to_string()))?;
        }
        // Every commit completes an item: the client's turn (its finals joined), or silence (empty).
        if self.stats.turns == turns_before {
            let item_id = match &self.item {
                Some((id, _)) => id.clone(),
                None => self.ids.next("item"),
            };
            let text = self.finals.join(" ");
            self.complete(&item_id, &text, committed)?;
        }
        self.end_session();
        Ok(())
    }

    fn clear(&mut self) -> Result<(), Gone> {
        self.end_session();
        self.item = None;
        self.finals.clear();
        self.emit(json!({"type": "input_audio_buffer.cleared"}))
    }

    fn end_session(&mut self) {
        if let Some(session) = self.session.take() {
            let audio_s = session.audio_seconds();
            self.offset_ms += audio_s * 1000.0;
            self.stats.audio_s += audio_s;
            self.core.metrics().audio(Protocol::Realtime, audio_s);
        }
        self.pending_bytes = 0;
    }

    fn on_events(&mut self, events: Vec<TranscriptEvent>) -> Result<(), Gone> {
        let vad = self.settings.turns.is_some();
        for event in events {
            match event {
                TranscriptEvent::Partial(p) => {
                    let id = self.open_item(vad.then_some(p.start_s))?;
                    self.delta(&id, &p.committed)?;
                }
                TranscriptEvent::Final(t) if vad => {
                    let decided = Instant::now();
                    let id = self.open_item(Some(t.start_s))?;
                    self.emit(
                        json!({"type": "input_audio_buffer.speech_stopped", "item_id": id,
                                     "audio_end_ms": self.ms(t.end_s)}),
                    )?;
                    self.complete(&id, &t.text, decided)?;
                }
                TranscriptEvent::Final(t) => {
                    // Client-committed turns: each final is committed text of the turn.
                    let id = self.open_item(None)?;
                    let text = if self.finals.is_empty() {
                        t.text.clone()
                    } else {
                        format!("{} {}", self.finals.join(" "), t.text)
                    };
                    self.finals.push(t.text);
                    self.delta(&id, &text)?;
                }
                TranscriptEvent::Endpoint(e) if vad => {
                    // A turn whose speech gave no text (a cough): it still ends, with an empty transcript.
                    if let Some((id, _)) = self.item.clone() {
                        self.emit(
                            json!({"type": "input_audio_buffer.speech_stopped", "item_id": id,
                                         "audio_end_ms": self.ms(e.end_s)}),
                        )?;
                        self.complete(&id, "", Instant::now())?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn ms(&self, stream_s: f64) -> u64 {
        (self.offset_ms + stream_s * 1000.0).round() as u64
    }

    /// The open item's id; a new item (with `speech_started` at `start_s` under server VAD) when none is open.
    fn open_item(&mut self, start_s: Option<f64>) -> Result<String, Gone> {
        if let Some((id, _)) = &self.item {
            return Ok(id.clone());
        }
        let id = self.ids.next("item");
        if let Some(start_s) = start_s {
            self.emit(
                json!({"type": "input_audio_buffer.speech_started", "item_id": id,
                             "audio_start_ms": self.ms(start_s)}),
            )?;
        }
        self.item = Some((id.clone(), String::new()));
        Ok(id)
    }

    /// Send what `committed` adds to the text already sent for the open item.
    fn delta(&mut self, id: &str, committed: &str) -> Result<(), Gone> {
        let Some((_, sent)) = &mut self.item else {
            return Ok(());
        };
        let Some(new) = committed
            .strip_prefix(sent.as_str())
            .filter(|n| !n.is_empty())
        else {
            return Ok(());
        };
        let new = new.to_string();
        sent.push_str(&new);
        self.emit(
            json!({"type": "conversation.item.input_audio_transcription.delta",
                         "item_id": id, "content_index": 0, "delta": new}),
        )
    }

    /// End the item: `committed`, the rest of the text as a delta, `completed` with the whole transcript.
    fn complete(&mut self, id: &str, transcript: &str, ended: Instant) -> Result<(), Gone> {
        self.emit(
            json!({"type": "input_audio_buffer.committed", "item_id": id,
                         "previous_item_id": self.previous_item}),
        )?;
        if self.item.is_none() {
            self.item = Some((id.to_string(), String::new()));
        }
        self.delta(id, transcript)?;
        self.emit(
            json!({"type": "conversation.item.input_audio_transcription.completed",
                         "item_id": id, "content_index": 0, "transcript": transcript}),
        )?;
        self.core
            .metrics()
            .latency(Protocol::Realtime, ended.elapsed());
        self.previous_item = Some(id.to_string());
        self.item = None;
        self.finals.clear();
        self.stats.turns += 1;
        Ok(())
    }
}
