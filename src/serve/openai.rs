//! The OpenAI adapter: `POST /v1/audio/transcriptions` and `/v1/audio/translations` as OpenAI documents them
//! (multipart `file`, `model`,
//! `language`, `prompt`, `response_format`, `temperature`, `stream`), `GET /v1/models`, `GET /health`, `GET /metrics`
//! (Prometheus), and the Realtime WebSocket ([`super::realtime`]) at `/v1/realtime`, on axum. Every refusal has
//! OpenAI's error shape `{"error": {"message", "type", "param", "code"}}` and its status. Decoding runs on a
//! blocking thread, never on the runtime's workers.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use super::{request_bias, request_language, Core, Protocol};
use crate::audio::WavSource;
use crate::decode::{language_name, Task};
use crate::error::{Error, Result};
use crate::sink::{render, Format};
use crate::stream::{transcribe_wav, FileTranscript, Transcript};

/// An API error in OpenAI's shape.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    kind: &'static str,
    code: &'static str,
    param: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        let kind = match status {
            StatusCode::UNAUTHORIZED => "authentication_error",
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => "server_busy",
            s if s.is_server_error() => "server_error",
            _ => "invalid_request_error",
        };
        ApiError {
            status,
            message: message.into(),
            kind,
            code,
            param: None,
        }
    }

    fn bad(code: &'static str, param: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            param: Some(param),
            ..ApiError::new(StatusCode::BAD_REQUEST, code, message)
        }
    }

    /// The error code (`invalid_api_key`, `busy`, ...).
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "message": self.message, "type": self.kind, "param": self.param, "code": self.code,
        }});
        (self.status, Json(body)).into_response()
    }
}

/// Serve the API on `listener` until the core's stop request; then stop accepting, let requests and Realtime
/// sessions in flight finish within the grace period, and return.
pub fn serve(listener: std::net::TcpListener, core: Arc<Core>) -> Result<()> {
    let uri = listener
        .local_addr()
        .map_or_else(|_| "http".into(), |a| format!("http://{a}"));
    let listen_error = |reason: String| Error::Listen {
        uri: uri.clone(),
        reason,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("earshot-http")
        .enable_all()
        .build()
        .map_err(|e| listen_error(format!("cannot start the HTTP runtime: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| listen_error(e.to_string()))?;
    let app = router(core.clone());
    let result = runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|e| listen_error(e.to_string()))?;
        let deadline = {
            let core = core.clone();
            async move {
                stop_requested(&core).await;
                tokio::time::sleep(core.options().shutdown_grace + Duration::from_millis(500))
                    .await;
            }
        };
        tokio::select! {
            () = accept_until_stopped(listener, app, core.clone()) => Ok(()),
            () = deadline => {
                core.log("http: requests still in flight after the grace period were cut off");
                Ok(())
            }
        }
    });
    // Realtime sessions end on their own within the grace period (they watch the stop request); what is left is cut.
    runtime.shutdown_timeout(core.options().shutdown_grace + Duration::from_secs(1));
    result
}

async fn stop_requested(core: &Core) {
    while !core.stopping() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Serve connections until the stop request, then let requests in flight and sessions (upgraded WebSockets are not
/// the HTTP layer's to wait for) finish. hyper's own connection builder rather than `axum::serve`: it takes a timer,
/// so a client that sends its request headers slowly is dropped after `--event-timeout-s` and cannot hold a socket.
async fn accept_until_stopped(listener: tokio::net::TcpListener, app: Router, core: Arc<Core>) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(core.options().event_timeout);
    let builder = Arc::new(builder);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    core.log(&format!("http: accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop_requested(&core) => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await; // a client that went away is not the server's error
        });
    }
    drop(listener);
    graceful.shutdown().await;
    while core.sessions_open() > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The routes, with the body limit and the API key check.
pub fn router(core: Arc<Core>) -> Router {
    let limit = core.options().max_body_bytes;
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/models", get(models))
        .route("/v1/audio/transcriptions", post(transcriptions))
        .route("/v1/audio/translations", post(translations))
        .route("/v1/realtime", get(super::realtime::upgrade))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(core.clone(), authorize))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(core)
}

/// Every route but `/health` needs `Authorization: Bearer KEY` when the server has a key.
async fn authorize(State(core): State<Arc<Core>>, request: Request, next: Next) -> Response {
    let Some(key) = &core.options().api_key else {
        return next.run(request).await;
    };
    if request.uri().path() == "/health" {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given == Some(key.as_str()) {
        return next.run(request).await;
    }
    core.metrics().refused(Protocol::Http, "invalid_api_key");
    let message = if given.is_some() {
        "Incorrect API key provided: check the key given to `earshot serve --api-key` (or EARSHOT_API_KEY)"
    } else {
        "No API key provided: send `Authorization: Bearer KEY` with the key of `earshot serve --api-key`"
    };
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_api_key", message).into_response()
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn metrics(State(core): State<Arc<Core>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        core.metrics().encode(),
    )
        .into_response()
}

async fn models(State(core): State<Arc<Core>>) -> Json<Value> {
    let name = &core.recognizer().model().manifest().name;
    Json(json!({
        "object": "list",
        "data": [{"id": name, "object": "model", "created": 0, "owned_by": "earshot"}],
    }))
}

async fn not_found(State(core): State<Arc<Core>>, request: Request) -> ApiError {
    core.metrics().refused(Protocol::Http, "not_found");
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "no route {} {}: earshot serves POST /v1/audio/transcriptions, GET /v1/models, GET /v1/realtime \
             (WebSocket), GET /health and GET /metrics",
            request.method(),
            request.uri().path()
        ),
    )
}

/// What a transcription request asked for.
#[derive(Debug, Default)]
struct Form {
    file: Option<(String, Vec<u8>)>,
    model: Option<String>,
    language: Option<String>,
    prompt: Option<String>,
    response_format: Option<String>,
    stream: bool,
}

async fn read_form(mut multipart: Multipart) -> std::result::Result<Form, ApiError> {
    let mut form = Form::default();
    let bad_body = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "request_too_large"
        } else {
            "invalid_multipart"
        };
        ApiError::new(
            status,
            code,
            format!("the multipart body: {}", e.body_text()),
        )
    };
    while let Some(field) = multipart.next_field().await.map_err(bad_body)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("upload").to_string();
            let bytes = field.bytes().await.map_err(bad_body)?;
            form.file = Some((file_name, bytes.to_vec()));
            continue;
        }
        let text = field.text().await.map_err(bad_body)?;
        match name.as_str() {
            "model" => form.model = Some(text),
            "language" => form.language = Some(text).filter(|l| !l.is_empty()),
            "prompt" => form.prompt = Some(text),
            "response_format" => form.response_format = Some(text),
            "stream" => form.stream = text.trim().eq_ignore_ascii_case("true"),
            _ => {} // temperature, timestamp_granularities[], ...: accepted (decoding is deterministic)
        }
    }
    Ok(form)
}

/// The terms a `prompt` lends the vocabulary list: a list separated by commas or new lines as it is; a sentence's
/// names and jargon (words with a capital letter or a digit after its first word).
pub(crate) fn prompt_terms(prompt: &str) -> Vec<String> {
    if prompt.contains([',', '\n', ';']) {
        return prompt
            .split([',', '\n', ';'])
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
    }
    prompt
        .split_whitespace()
        .skip(1)
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().any(|c| c.is_uppercase() || c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

const ACCEPTED: &str =
    "WAV (RIFF/WAVE) with 16/24/32-bit integer or 32-bit float PCM, 8-192 kHz, 1-8 channels; \
                        convert with `ffmpeg -i IN -ar 16000 -ac 1 OUT.wav`";

async fn transcriptions(
    State(core): State<Arc<Core>>,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Response {
    answer(&core, multipart, Task::Transcribe).await
}

/// `POST /v1/audio/translations`: English text from speech in any language (a multilingual pack).
async fn translations(
    State(core): State<Arc<Core>>,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Response {
    answer(&core, multipart, Task::Translate).await
}

async fn answer(
    core: &Arc<Core>,
    multipart: std::result::Result<Multipart, MultipartRejection>,
    task: Task,
) -> Response {
    match transcribe_request(core, multipart, task).await {
        Ok(response) => response,
        Err(e) => {
            core.metrics().refused(Protocol::Http, e.code());
            core.log(&format!("http: refused {}: {}", e.code, e.message));
            e.into_response()
        }
    }
}

async fn transcribe_request(
    core: &Arc<Core>,
    multipart: std::result::Result<Multipart, MultipartRejection>,
    task: Task,
) -> std::result::Result<Response, ApiError> {
    let multipart = multipart.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_multipart",
            format!("send multipart/form-data with a `file` field, as OpenAI's API takes it ({e})"),
        )
    })?;
    let slot = core
        .admit(Protocol::Http)
        .map_err(|text| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", text))?;
    let timeout = core.options().request_timeout;
    let form = tokio::time::timeout(timeout, read_form(multipart))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!(
                    "the request body did not arrive within {} s (--request-timeout-s)",
                    timeout.as_secs()
                ),
            )
        })??;
    let uploaded = Instant::now();
    let Some((file_name, bytes)) = form.file else {
        return Err(ApiError::bad(
            "missing_file",
            "file",
            "no `file` field: send the audio as the multipart field `file`",
        ));
    };
    let language = form.language.as_deref().unwrap_or(crate::decode::AUTO);
    let prompter = request_language(core.recognizer(), language, task).map_err(|e| {
        let param = if form.language.is_some() {
            "language"
        } else {
            "model"
        };
        ApiError::bad("unsupported_language", param, e)
    })?;
    let format = match form.response_format.as_deref().unwrap_or("json") {
        "json" => Reply::Json,
        "text" => Reply::Text,
        "srt" => Reply::Srt,
        "vtt" => Reply::Vtt,
        "verbose_json" => Reply::VerboseJson,
        other => {
            return Err(ApiError::bad(
                "invalid_response_format",
                "response_format",
                format!("response_format {other:?}: use json, text, srt, vtt or verbose_json"),
            ))
        }
    };
    if !bytes.starts_with(b"RIFF") || bytes.get(8..12) != Some(b"WAVE".as_slice()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file",
            format!("{file_name} is not a WAV file: earshot accepts {ACCEPTED}"),
        ));
    }
    let wav = WavSource::from_reader(std::io::Cursor::new(bytes), &file_name).map_err(|e| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file",
            format!("{e}; earshot accepts {ACCEPTED}"),
        )
    })?;
    let terms = form.prompt.as_deref().map(prompt_terms).unwrap_or_default();
    let bias = request_bias(core.recognizer(), &terms)
        .map_err(|e| ApiError::bad("invalid_prompt", "prompt", format!("prompt terms: {e}")))?;
    let recognizer = match bias {
        Some(bias) => core.recognizer().clone().with_vocabulary(Some(bias)),
        None => core.recognizer().clone(),
    }
    .with_language(prompter);
    let mut response = if form.stream {
        if !matches!(format, Reply::Json | Reply::Text) {
            return Err(ApiError::bad(
                "invalid_response_format",
                "stream",
                "stream=true gives server-sent events of text: use response_format json or text",
            ));
        }
        stream_reply(core.clone(), slot, recognizer, wav, uploaded)
    } else {
        let transcript = transcribe_blocking(core, slot, recognizer, wav, uploaded).await?;
        format.render(&transcript, task)
    };
    // The model name is accepted whatever it is, and echoed.
    if let Some(model) = form.model.and_then(|m| HeaderValue::from_str(&m).ok()) {
        response.headers_mut().insert("openai-model", model);
    }
    Ok(response)
}

/// Decode a whole upload on a blocking thread.
async fn transcribe_blocking(
    core: &Arc<Core>,
    slot: super::Slot,
    recognizer: crate::stream::Recognizer,
    wav: WavSource,
    uploaded: Instant,
) -> std::result::Result<FileTranscript, ApiError> {
    let result = tokio::task::spawn_blocking(move || {
        let result = transcribe_wav(&recognizer, wav, |_, _| {}, |_| {});
        drop(slot);
        result
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            e.to_string(),
        )
    })?;
    finished(core, result, uploaded)
}

/// A finished transcription: counted in the metrics and logged, or the error for the client.
fn finished(
    core: &Core,
    result: std::result::Result<FileTranscript, crate::stream::FileFailure>,
    uploaded: Instant,
) -> std::result::Result<FileTranscript, ApiError> {
    let took = uploaded.elapsed();
    match result {
        Ok(t) => {
            core.metrics().audio(Protocol::Http, t.audio_s);
            core.metrics().latency(Protocol::Http, took);
            core.log(&format!(
                "http: {}: {:.1} s of audio, transcript {:.0} ms after the upload",
                t.file.display(),
                t.audio_s,
                took.as_secs_f64() * 1000.0
            ));
            Ok(t)
        }
        Err(failure) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_audio",
            format!("{}; earshot accepts {ACCEPTED}", failure.error),
        )),
    }
}

/// `stream=true`: each final as a `transcript.text.delta` event as soon as it is decoded, then
/// `transcript.text.done` with the whole text (or an `error` event).
fn stream_reply(
    core: Arc<Core>,
    slot: super::Slot,
    recognizer: crate::stream::Recognizer,
    wav: WavSource,
    uploaded: Instant,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Value>(64);
    tokio::task::spawn_blocking(move || {
        let mut first = true;
        let result = transcribe_wav(
            &recognizer,
            wav,
            |_, _| {},
            |t: &Transcript| {
                let delta = if first {
                    t.text.clone()
                } else {
                    format!(" {}", t.text)
                };
                first = false;
                // A client that went away stops reading: the rest is decoded for nothing, but bounded by the file.
                let _ = tx.blocking_send(json!({"type": "transcript.text.delta", "delta": delta}));
            },
        );
        let last = match finished(&core, result, uploaded) {
            Ok(t) => json!({"type": "transcript.text.done", "text": t.text}),
            Err(e) => {
                json!({"type": "error", "error": {"message": e.message, "type": e.kind, "code": e.code}})
            }
        };
        let _ = tx.blocking_send(last);
        drop(slot);
    });
    let events = ReceiverStream::new(rx)
        .map(|event| Ok::<_, Infallible>(SseEvent::default().data(event.to_string())));
    Sse::new(events).into_response()
}

/// The `response_format` of a transcription.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Json,
    Text,
    Srt,
    Vtt,
    VerboseJson,
}

impl Reply {
    fn render(self, t: &FileTranscript, task: Task) -> Response {
        let plain = |body: String, kind: &'static str| {
            ([(header::CONTENT_TYPE, kind)], body).into_response()
        };
        match self {
            Reply::Json => Json(json!({"text": t.text})).into_response(),
            Reply::Text => plain(format!("{}\n", t.text), "text/plain; charset=utf-8"),
            Reply::Srt => plain(
                render(t, Format::Srt),
                "application/x-subrip; charset=utf-8",
            ),
            Reply::Vtt => plain(render(t, Format::Vtt), "text/vtt; charset=utf-8"),
            Reply::VerboseJson => Json(verbose_json(t, task)).into_response(),
        }
    }
}

/// OpenAI's `verbose_json`: the task, the language spoken (of the first segment; its English name, as OpenAI
/// writes it), the text, the duration, and segments with their times and scores.
fn verbose_json(t: &FileTranscript, task: Task) -> Value {
    let segments: Vec<Value> = t
        .segments
        .iter()
        .enumerate()
        .map(|(id, s)| {
            json!({
                "id": id,
                "seek": 0,
                "start": s.start_s,
                "end": s.end_s,
                "text": format!(" {}", s.text),
                "tokens": s.tokens,
                "temperature": 0.0,
                "avg_logprob": s.avg_logprob,
                "compression_ratio": compression_ratio(&s.text),
                "no_speech_prob": s.no_speech_prob,
            })
        })
        .collect();
    let code = t
        .segments
        .first()
        .map_or("en", |s| s.language.code.as_str());
    json!({
        "task": task,
        "language": language_name(code).unwrap_or(code),
        "duration": t.audio_s,
        "text": t.text,
        "segments": segments,
    })
}

/// Bytes of the text over bytes of its zlib compression, as Whisper reports it (repetitive text compresses well).
fn compression_ratio(text: &str) -> f64 {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
        .map_or(0, |c| c.len());
    if compressed == 0 {
        0.0
    } else {
        text.len() as f64 / compressed as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_lends_its_names_or_its_list() {
        assert_eq!(
            prompt_terms("Notes from Aoife about PostgreSQL 16 and the Ecobee."),
            ["Aoife", "PostgreSQL", "16", "Ecobee"]
        );
        assert_eq!(
            prompt_terms("Aoife, living room ,\nEcobee"),
            ["Aoife", "living room", "Ecobee"]
        );
        assert!(prompt_terms("just some words").is_empty());
    }
}
