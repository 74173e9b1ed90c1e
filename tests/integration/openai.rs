//! `earshot serve --http` driven by the official `openai` Python package (HTTP) and the `websockets` package (the
//! Realtime transcription protocol), well-behaved and misbehaving clients alike, against the real server and model
//! (`tests/openai/client.py`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::common::{read_wav_mono, root, scratch_dir, speech};
use crate::serve::{run_client, terminate, transcribe_text, Server};

fn start(extra: &[&str]) -> Server {
    let mut args = vec!["--http", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::spawn(&args)
}

/// Run the OpenAI test client; its JSON output.
fn client(server: &Server, args: &[&str]) -> Value {
    run_client("tests/openai/client.py", &server.http, args)
}

/// A Realtime session streaming `wav` (16 kHz) in real time on its own thread; the client's JSON output.
fn realtime_in_background(server: &Server, wav: &str) -> std::thread::JoinHandle<Value> {
    let (http, path) = (server.http.clone(), speech(wav));
    std::thread::spawn(move || {
        let path = path.to_str().unwrap().to_string();
        run_client(
            "tests/openai/client.py",
            &http,
            &["realtime", "--rate", "16000", &path],
        )
    })
}

fn wav(name: &str) -> String {
    speech(name).to_str().unwrap().to_string()
}

/// `name` resampled to `rate` Hz as 16-bit mono, in the scratch folder (the Realtime protocol's 24 kHz).
fn at_rate(name: &str, rate: u32) -> PathBuf {
    let (mono, from) = read_wav_mono(&speech(name));
    let mut resampler = earshot::audio::Resampler::new(from, rate, 1024).unwrap();
    let mut out = Vec::new();
    resampler.push(&mono, |s| out.extend_from_slice(s)).unwrap();
    resampler.finish(|s| out.extend_from_slice(s)).unwrap();
    let path = scratch_dir("openai-rates").join(format!("{name}-{rate}.wav"));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&path, spec).unwrap();
    for s in out {
        writer
            .write_sample((s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
    path
}

/// The finals `earshot listen --replay` gives for `path`.
fn replay_finals(path: &Path) -> Vec<String> {
    let o = crate::common::earshot(&[
        "listen",
        "--replay",
        path.to_str().unwrap(),
        "--fast",
        "--json",
        "-q",
    ]);
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "final")
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect()
}

/// A raw HTTP/1.1 request; the status code and the body.
fn raw_get(server: &Server, path: &str, key: Option<&str>) -> (u16, String) {
    let address = server.http.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(address).unwrap();
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

#[test]
fn every_response_format_gives_the_transcribe_text() {
    let server = start(&[]);
    for name in ["q02.wav", "long02.wav", "cmd04_44100hz.wav"] {
        let text = transcribe_text(name);
        let json = client(&server, &["transcribe", &wav(name)]);
        assert_eq!(json["result"]["text"], text.as_str(), "{name}: {json}");
        let plain = client(&server, &["transcribe", &wav(name), "--format", "text"]);
        assert_eq!(plain["body"].as_str().unwrap().trim(), text, "{name}");
        for format in ["srt", "vtt"] {
            let body = client(&server, &["transcribe", &wav(name), "--format", format]);
            let body = body["body"].as_str().unwrap();
            assert!(
                body.contains(" --> ") && body.contains(text.as_str()),
                "{format}: {body}"
            );
        }
        let verbose = client(
            &server,
            &["transcribe", &wav(name), "--format", "verbose_json"],
        );
        let r = &verbose["result"];
        assert_eq!(r["text"], text.as_str());
        assert_eq!(r["language"], "english");
        assert!(r["duration"].as_f64().unwrap() > 1.0);
        let segments = r["segments"].as_array().unwrap();
        assert!(!segments.is_empty());
        for s in segments {
            assert!(
                s["end"].as_f64().unwrap() > s["start"].as_f64().unwrap(),
                "{s}"
            );
            assert!(s["avg_logprob"].as_f64().unwrap() <= 0.0, "{s}");
            assert!(
                (0.0..=1.0).contains(&s["no_speech_prob"].as_f64().unwrap()),
                "{s}"
            );
        }
    }
    assert_eq!(
        client(&server, &["models"])["ids"],
        serde_json::json!(["whisper-tiny-en-int8"])
    );
}

#[test]
fn stream_true_sends_each_final_as_a_delta_then_the_whole_text() {
    let server = start(&[]);
    for name in ["long05.wav", "dict01.wav"] {
        let out = client(&server, &["transcribe", &wav(name), "--stream"]);
        let events = out["events"].as_array().unwrap();
        let (last, deltas) = events.split_last().unwrap();
        assert_eq!(last["type"], "transcript.text.done", "{out}");
        assert!(!deltas.is_empty());
        assert!(
            deltas.iter().all(|e| e["type"] == "transcript.text.delta"),
            "{out}"
        );
        let joined: String = deltas
            .iter()
            .map(|e| e["delta"].as_str().unwrap())
            .collect();
        assert_eq!(joined, transcribe_text(name));
        assert_eq!(last["text"].as_str().unwrap(), joined);
    }
}

#[test]
fn language_and_prompt_are_honoured() {
    let server = start(&[]);
    let de = client(
        &server,
        &["transcribe", &wav("q02.wav"), "--language", "de"],
    );
    assert_eq!(de["status"], 400, "{de}");
    assert_eq!(de["error"]["code"], "unsupported_language");
    assert_eq!(de["error"]["param"], "language");
    let en = client(
        &server,
        &["transcribe", &wav("q02.wav"), "--language", "en"],
    );
    assert_eq!(en["result"]["text"], transcribe_text("q02.wav").as_str());
    // The prompt's names bias decoding as a vocabulary list does.
    let clip = root().join("tests/fixtures/vocabulary/term19.wav");
    let clip = clip.to_str().unwrap();
    let plain = client(&server, &["transcribe", clip]);
    let prompted = client(
        &server,
        &[
            "transcribe",
            clip,
            "--prompt",
            "A question about PostgreSQL.",
        ],
    );
    assert!(
        !plain["result"]["text"]
            .as_str()
            .unwrap()
            .contains("PostgreSQL"),
        "{plain}"
    );
    assert!(
        prompted["result"]["text"]
            .as_str()
            .unwrap()
            .contains("PostgreSQL"),
        "{prompted}"
    );
    // Where the prompt's names are not said, the text is exactly what it is without the prompt (the model once
    // heard "nginx" in "opens at nine on Saturday").
    let free = root().join("tests/fixtures/vocabulary_harm/free047.wav");
    let free = free.to_str().unwrap();
    let plain = client(&server, &["transcribe", free]);
    let prompted = client(
        &server,
        &[
            "transcribe",
            free,
            "--prompt",
            "nginx, Joaquin, Living Room",
        ],
    );
    assert_eq!(
        prompted["result"]["text"], plain["result"]["text"],
        "{prompted}"
    );
}

#[test]
fn a_key_is_required_everywhere_but_health() {
    let server = start(&["--api-key", "sesame"]);
    let wrong = client(&server, &["transcribe", &wav("q02.wav"), "--key", "open"]);
    assert_eq!(wrong["status"], 401, "{wrong}");
    assert_eq!(wrong["error"]["code"], "invalid_api_key");
    let none = client(&server, &["models"]);
    assert_eq!(none["status"], 401, "{none}");
    let right = client(&server, &["transcribe", &wav("q02.wav"), "--key", "sesame"]);
    assert_eq!(right["result"]["text"], transcribe_text("q02.wav").as_str());
    assert_eq!(raw_get(&server, "/health", None).0, 200);
    assert_eq!(raw_get(&server, "/metrics", None).0, 401);
    let (status, metrics) = raw_get(&server, "/metrics", Some("sesame"));
    assert_eq!(status, 200);
    assert!(
        metrics.contains("earshot_refusals_total{protocol=\"http\",code=\"invalid_api_key\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("earshot_sessions_served_total{protocol=\"http\"} 1"),
        "{metrics}"
    );
}

#[test]
fn bad_http_clients_get_openai_errors_and_cost_no_one_else_anything() {
    let mut server = start(&["--request-timeout-s", "2"]);
    let readme = root().join("README.md");
    let not_wav = client(&server, &["transcribe", readme.to_str().unwrap()]);
    assert_eq!(not_wav["status"], 415, "{not_wav}");
    assert!(
        not_wav["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is not a WAV file"),
        "{not_wav}"
    );
    let truncated = client(&server, &["bad", "truncated-multipart"]);
    assert_eq!(truncated["status"], 400, "{truncated}");
    let large = client(&server, &["bad", "too-large"]);
    assert_eq!(large["status"], 413, "{large}");
    let slow = client(&server, &["bad", "slow-upload"]);
    assert_eq!(slow["status"], 408, "{slow}");
    // Request headers sent one byte a second are cut off (the connection's event deadline, 10 s by default), not
    // kept for ever.
    let slow_headers = client(&server, &["bad", "slow-headers"]);
    let closed = slow_headers["closed_after_s"].as_f64();
    assert!(closed.is_some_and(|s| s < 30.0), "{slow_headers}");
    let (status, body) = raw_get(&server, "/v1/nothing", None);
    assert_eq!(status, 404);
    assert!(body.contains("\"code\":\"not_found\""), "{body}");
    assert!(server.alive());
    let good = client(&server, &["transcribe", &wav("q02.wav")]);
    assert_eq!(good["result"]["text"], transcribe_text("q02.wav").as_str());
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

#[test]
fn realtime_turns_end_on_the_servers_endpoint_and_match_listen_replay() {
    let server = start(&[]);
    let clips: Vec<PathBuf> = ["q02.wav", "cmd04.wav"]
        .iter()
        .map(|n| at_rate(n, 24_000))
        .collect();
    let mut args = vec!["realtime"];
    args.extend(clips.iter().map(|p| p.to_str().unwrap()));
    let out = client(&server, &args);
    let expected: Vec<String> = clips.iter().flat_map(|p| replay_finals(p)).collect();
    assert_eq!(out["completed"], serde_json::json!(expected), "{out}");
    // Per turn: speech_started, deltas, speech_stopped, committed, (a last delta), completed; in that order.
    let events: Vec<&str> = out["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        &events[..2],
        ["session.created", "session.updated"],
        "{events:?}"
    );
    let turns: Vec<&[&str]> = events[2..]
        .split_inclusive(|e| *e == "conversation.item.input_audio_transcription.completed")
        .collect();
    assert_eq!(turns.len(), 2, "{events:?}");
    for turn in turns {
        let at = |name: &str| turn.iter().position(|e| *e == name).unwrap_or(usize::MAX);
        assert_eq!(at("input_audio_buffer.speech_started"), 0, "{turn:?}");
        assert!(
            at("conversation.item.input_audio_transcription.delta")
                < at("input_audio_buffer.speech_stopped"),
            "{turn:?}"
        );
        assert!(
            at("input_audio_buffer.speech_stopped") < at("input_audio_buffer.committed"),
            "{turn:?}"
        );
        assert_eq!(
            *turn.last().unwrap(),
            "conversation.item.input_audio_transcription.completed"
        );
    }
}

#[test]
fn realtime_client_commits_and_the_beta_spelling() {
    let server = start(&[]);
    let clip = at_rate("q02.wav", 24_000);
    let expected = replay_finals(&clip).join(" ");
    for flags in [vec!["--manual"], vec!["--beta"], vec!["--beta", "--manual"]] {
        let mut args = vec!["realtime", clip.to_str().unwrap()];
        args.extend(flags.iter().copied());
        let out = client(&server, &args);
        assert_eq!(
            out["completed"],
            serde_json::json!([expected]),
            "{flags:?}: {out}"
        );
        // The first event comes before the client says which spelling it speaks.
        assert_eq!(out["created"], "session.created");
        if flags.contains(&"--beta") {
            assert!(
                out["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e == "transcription_session.updated"),
                "{out}"
            );
        }
    }
    // 16 kHz is accepted too.
    let out = client(&server, &["realtime", &wav("q02.wav"), "--rate", "16000"]);
    assert_eq!(
        out["completed"],
        serde_json::json!([transcribe_text("q02.wav")]),
        "{out}"
    );
}

#[test]
fn the_openai_packages_own_realtime_client_transcribes_a_turn() {
    let server = start(&[]);
    let out = client(&server, &["realtime-sdk", &wav("q02.wav")]);
    assert_eq!(
        out["completed"],
        serde_json::json!([transcribe_text("q02.wav")]),
        "{out}"
    );
    assert_eq!(out["types"][0], "session.created", "{out}");
}

#[test]
fn realtime_bad_clients_get_error_events_and_the_socket_stays_up() {
    let mut server = start(&[]);
    let garbage = client(&server, &["bad", "realtime-garbage"]);
    let codes: Vec<String> = garbage["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["type"].as_str().unwrap(),
                e["code"].as_str().unwrap_or("")
            )
        })
        .collect();
    // The commit is answered by the decoding thread, so it may come after the update's answer.
    let mut codes = codes;
    codes[3..].sort();
    assert_eq!(
        codes,
        [
            "error:invalid_json",
            "error:unknown_event",
            "error:invalid_audio",
            "error:input_audio_buffer_commit_empty",
            "session.updated:"
        ],
        "{garbage}"
    );
    let intent = client(&server, &["bad", "realtime-wrong-intent"]);
    assert_eq!(intent["status"], 400, "{intent}");
    assert_eq!(intent["body"]["error"]["code"], "unsupported_intent");
    // 60 s of silence appended as fast as the socket takes it: decoded with backpressure, an empty transcript.
    let flood = client(&server, &["bad", "realtime-flood"]);
    assert_eq!(
        flood["last"], "conversation.item.input_audio_transcription.completed",
        "{flood}"
    );
    assert_eq!(flood["transcript"], "");
    assert!(server.alive());
}

#[test]
fn sessions_past_the_limit_get_busy_on_every_protocol() {
    let server = Server::spawn(&[
        "--uri",
        "tcp://127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--max-connections",
        "1",
    ]);
    // A Realtime session holds the one slot; HTTP and Wyoming get `busy`.
    let holder = realtime_in_background(&server, "long02.wav");
    std::thread::sleep(Duration::from_secs(2));
    let busy = client(&server, &["transcribe", &wav("q02.wav")]);
    assert_eq!(busy["status"], 503, "{busy}");
    assert_eq!(busy["error"]["code"], "busy");
    let wyoming = run_client("tests/wyoming/client.py", &server.uri, &["bad", "idle"]);
    assert_eq!(wyoming["data"]["code"], "busy", "{wyoming}");
    let held = holder.join().unwrap();
    assert_eq!(
        held["completed"],
        serde_json::json!(replay_finals(&speech("long02.wav"))),
        "{held}"
    );
}

#[test]
fn sigterm_lets_http_and_realtime_sessions_in_flight_finish_then_stops() {
    let mut server = start(&["--shutdown-grace-s", "8"]);
    let streaming = realtime_in_background(&server, "q02.wav");
    std::thread::sleep(Duration::from_millis(1500));
    let took = terminate(&mut server, 10.0);
    let out = streaming.join().unwrap();
    assert_eq!(
        out["completed"],
        serde_json::json!([transcribe_text("q02.wav")]),
        "{out}"
    );
    assert!(took < 9.5, "took {took:.1} s (grace 8 s)");
}

#[test]
fn four_realtime_sessions_at_once_all_get_their_turns() {
    let server = start(&[]);
    let names = ["q02.wav", "cmd04.wav", "num01.wav", "name01.wav"];
    let sessions: Vec<_> = names
        .iter()
        .map(|name| realtime_in_background(&server, name))
        .collect();
    for (name, session) in names.iter().zip(sessions) {
        let out = session.join().unwrap();
        assert_eq!(
            out["completed"],
            serde_json::json!(replay_finals(&speech(name))),
            "{name}: {out}"
        );
    }
}

/// Issue 29: `semantic_vad` is the text end-of-turn detector (one turn across the pause after "Remind me to"),
/// `server_vad` the silence rule (the turn ends in the pause); an eagerness OpenAI does not define is an error event.
#[test]
fn realtime_semantic_vad_waits_out_a_pause_in_an_unfinished_sentence() {
    let server = start(&[]);
    let wav = root().join("tests/fixtures/turns/paused.wav");
    let wav = wav.to_str().unwrap();
    let completed = |flags: &[&str]| {
        let mut args = vec!["realtime", wav, "--rate", "16000"];
        args.extend(flags);
        client(&server, &args)
    };
    let semantic = completed(&["--semantic", "auto"]);
    let turns = semantic["completed"].as_array().unwrap();
    assert_eq!(turns.len(), 1, "{semantic}");
    assert_eq!(
        earshot::bench::wer::normalize(turns[0].as_str().unwrap()).join(" "),
        "remind me to renew my passport on thursday"
    );
    // The client stops at its first completed turn: under the silence rule, the pause ended it.
    let server_vad = completed(&["--silence-ms", "600"]);
    assert_eq!(
        server_vad["completed"],
        serde_json::json!(["Remind me to"]),
        "{server_vad}"
    );
    let bad = completed(&["--semantic", "eager"]);
    assert!(
        bad["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("eagerness"))),
        "{bad}"
    );
}
