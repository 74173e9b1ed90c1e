//! `earshot serve` driven by the real Wyoming client library (the `wyoming` Python package in the venv `.ci/setup`
//! makes), well-behaved and misbehaving clients alike, against the real server binary and model.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{root, speech};

/// The venv's Python with the pinned `wyoming`, `openai` and `websockets` packages.
pub fn python() -> PathBuf {
    let venv = std::env::var_os("EARSHOT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let data = std::env::var_os("XDG_DATA_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap()).join(".local/share")
                });
            data.join("earshot/venv")
        });
    let python = venv.join("bin/python");
    assert!(
        python.is_file(),
        "no {}: run `bash .ci/setup` (it installs the wyoming client)",
        python.display()
    );
    python
}

/// A running `earshot serve`, its Wyoming URI, its HTTP base URL and its log lines; killed when dropped.
pub struct Server {
    pub child: Child,
    pub uri: String,
    /// `http://HOST:PORT` (the OpenAI base URL is this plus `/v1`), when it serves HTTP.
    pub http: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        Server::start_at("tcp://127.0.0.1:0", extra)
    }

    fn start_at(uri: &str, extra: &[&str]) -> Server {
        let mut args = vec!["--uri", uri];
        args.extend_from_slice(extra);
        Server::spawn(&args)
    }

    /// `earshot serve ARGS`, once it says where it listens.
    pub fn spawn(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_earshot"))
            .arg("serve")
            .args(args)
            .current_dir(root())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let word = |prefixes: &[&str]| {
            first
                .split_whitespace()
                .find(|w| prefixes.iter().any(|p| w.starts_with(p)))
                .map(str::to_string)
                .unwrap_or_default()
        };
        let (uri, http) = (word(&["tcp://", "unix://"]), word(&["http://"]));
        assert!(
            !uri.is_empty() || !http.is_empty(),
            "no address in {first:?}"
        );
        let http = http.trim_end_matches("/v1").to_string();
        let log = Arc::new(Mutex::new(vec![first]));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Server {
            child,
            uri,
            http,
            log,
        }
    }

    /// Run the Wyoming test client; its JSON output.
    fn client(&self, args: &[&str]) -> Value {
        run_client("tests/wyoming/client.py", &self.uri, args)
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run a Python test client (`script`, from the repository root) against `target`; its JSON output.
pub fn run_client(script: &str, target: &str, args: &[&str]) -> Value {
    let o = Command::new(python())
        .arg(root().join(script))
        .arg(target)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{script} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

/// A client streaming `wav` in real time on its own thread; its JSON output.
fn stream_in_background(uri: &str, wav: &str) -> std::thread::JoinHandle<Value> {
    let (uri, wav) = (uri.to_string(), speech(wav));
    std::thread::spawn(move || {
        let o = Command::new(python())
            .arg(root().join("tests/wyoming/client.py"))
            .args([uri.as_str(), "stream", "--realtime", wav.to_str().unwrap()])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    })
}

pub fn transcribe_text(wav: &str) -> String {
    let o = crate::common::earshot(&["transcribe", "-q", speech(wav).to_str().unwrap()]);
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn describe_answers_info_as_the_wyoming_package_reads_it() {
    let server = Server::start(&[]);
    let info = server.client(&["describe"]);
    assert_eq!(info["name"], "earshot");
    assert_eq!(info["installed"], true);
    assert_eq!(info["streaming"], true);
    assert_eq!(info["requires_external_vad"], true);
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["models"][0]["name"], "whisper-tiny-en-int8");
    assert_eq!(info["models"][0]["languages"], serde_json::json!(["en"]));
}

#[test]
fn a_wav_streamed_in_real_time_gets_the_transcribe_text_with_streaming_events_in_order() {
    let server = Server::start(&[]);
    for wav in ["long02.wav", "q02.wav"] {
        let out = server.client(&["stream", "--realtime", speech(wav).to_str().unwrap()]);
        let u = &out["utterances"][0];
        let text = u["text"].as_str().unwrap();
        assert_eq!(text, transcribe_text(wav), "{wav}");
        let events: Vec<&str> = u["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert_eq!(events.first(), Some(&"transcript-start"), "{events:?}");
        assert_eq!(
            &events[events.len() - 2..],
            ["transcript", "transcript-stop"],
            "{events:?}"
        );
        assert!(
            events[1..events.len() - 2]
                .iter()
                .all(|e| *e == "transcript-chunk"),
            "{events:?}"
        );
        let chunks: String = u["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(
            text.starts_with(&chunks),
            "chunks {chunks:?} are not a prefix of {text:?}"
        );
    }
}

#[test]
fn several_utterances_on_one_connection_and_one_per_connection() {
    let server = Server::start(&[]);
    let wavs = ["q02.wav", "cmd04_44100hz.wav", "dict01_stereo_16000hz.wav"];
    let paths: Vec<String> = wavs
        .iter()
        .map(|w| speech(w).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["stream"];
    args.extend(paths.iter().map(String::as_str));
    let out = server.client(&args);
    for (u, wav) in out["utterances"].as_array().unwrap().iter().zip(wavs) {
        assert_eq!(u["text"].as_str().unwrap(), transcribe_text(wav), "{wav}");
    }
    for (path, wav) in paths.iter().zip(wavs) {
        let out = server.client(&["stream", path]);
        assert_eq!(
            out["utterances"][0]["text"].as_str().unwrap(),
            transcribe_text(wav),
            "{wav}"
        );
    }
    assert!(server.log().contains("3 utterance(s)"), "{}", server.log());
}

#[test]
fn bad_clients_get_an_error_and_cost_no_other_client_anything() {
    let mut server = Server::start(&["--idle-timeout-s", "2", "--write-timeout-s", "2"]);
    // A good client streams in real time the whole time the bad ones misbehave.
    let good = stream_in_background(&server.uri, "long05.wav");
    let cases = [
        ("malformed-json", Some("bad-event"), "header is not JSON"),
        (
            "long-header",
            Some("bad-event"),
            "header line over 65536 bytes",
        ),
        (
            "huge-payload",
            Some("bad-event"),
            "payload_length 1000000000 is over the limit",
        ),
        (
            "huge-data",
            Some("bad-event"),
            "data_length 1000000000 is over the limit",
        ),
        (
            "chunk-before-start",
            Some("bad-sequence"),
            "audio-chunk before audio-start",
        ),
        (
            "format-change",
            Some("format-changed"),
            "audio-start said 16000 Hz",
        ),
        ("unsupported-format", Some("unsupported-audio"), "width 3"),
        (
            "wrong-language",
            Some("unsupported-language"),
            "English only",
        ),
        ("idle", Some("timeout"), "nothing received for 2 s"),
        ("disconnect-mid-utterance", None, ""),
    ];
    for (case, code, says) in cases {
        let got = server.client(&["bad", case]);
        match code {
            Some(code) => {
                assert_eq!(got["type"], "error", "{case}: {got}");
                assert_eq!(got["data"]["code"], code, "{case}: {got}");
                assert!(
                    got["data"]["text"].as_str().unwrap().contains(says),
                    "{case}: {got}"
                );
            }
            None => assert!(got.is_null()),
        }
        assert!(server.alive(), "{case} took the server down");
    }
    // A reader that never reads: the server's writes time out and it drops that client alone.
    let slow = server.client(&["bad", "slow-reader"]);
    assert!(
        !slow["stopped"].is_null(),
        "the server never dropped the slow reader: {slow}"
    );
    let good = good.join().unwrap();
    assert_eq!(
        good["utterances"][0]["text"].as_str().unwrap(),
        transcribe_text("long05.wav")
    );
    assert!(server.alive());
    let log = server.log();
    assert!(
        log.contains("mid-utterance") && log.contains("connection failed: write"),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
    // One log line per connection: the good client, 10 bad ones, the slow reader, the describe below.
    assert!(server.client(&["describe"])["name"] == "earshot");
}

#[test]
fn past_the_connection_limit_a_client_gets_busy_and_the_first_keeps_its_audio() {
    let server = Server::start(&["--max-connections", "1"]);
    let first = stream_in_background(&server.uri, "long02.wav");
    std::thread::sleep(Duration::from_secs(2));
    let second = server.client(&["bad", "idle"]);
    assert_eq!(second["data"]["code"], "busy", "{second}");
    let first = first.join().unwrap();
    assert_eq!(
        first["utterances"][0]["text"].as_str().unwrap(),
        transcribe_text("long02.wav")
    );
}

/// Stream long05 in real time, SIGTERM the server 2 s in; the client's result, the seconds the server took to exit,
/// its log.
fn terminate_mid_utterance(extra: &[&str]) -> (Value, f64, String) {
    let mut server = Server::start(extra);
    let client = stream_in_background(&server.uri, "long05.wav");
    std::thread::sleep(Duration::from_secs(2));
    let took = terminate(&mut server, 20.0);
    std::thread::sleep(Duration::from_millis(200));
    (client.join().unwrap(), took, server.log())
}

#[test]
fn sigterm_lets_the_utterance_in_flight_finish_then_stops() {
    let (got, took, log) = terminate_mid_utterance(&[]);
    assert_eq!(
        got["utterances"][0]["text"].as_str().unwrap(),
        transcribe_text("long05.wav"),
        "{got}"
    );
    assert!(took < 11.0, "took {took:.1} s (grace 10 s)");
    assert!(log.contains("stopped serving"), "{log}");
}

#[test]
fn sigterm_refuses_an_utterance_past_the_grace_period() {
    let (got, took, log) = terminate_mid_utterance(&["--shutdown-grace-s", "1"]);
    // The refusal is an `error` event where the connection still allows it: the client here is still sending audio
    // when the server closes, and may see the close first.
    let error = got["utterances"][0]["error"].as_str().unwrap_or_default();
    assert!(
        ["shutting-down", "closed before transcript-stop"].contains(&error),
        "{got}"
    );
    assert!(took < 3.0, "took {took:.1} s (grace 1 s)");
    assert!(log.contains("error shutting-down"), "{log}");
}

#[test]
fn a_unix_socket_serves_too_and_is_removed_at_exit() {
    let dir = crate::common::scratch_dir("serve-unix");
    let path = dir.join("earshot.sock");
    let uri = format!("unix://{}", path.display());
    let mut server = Server::start_at(&uri, &[]);
    assert_eq!(server.uri, uri);
    let out = server.client(&["stream", speech("q02.wav").to_str().unwrap()]);
    assert_eq!(
        out["utterances"][0]["text"].as_str().unwrap(),
        transcribe_text("q02.wav")
    );
    assert!(Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let _ = server.child.wait();
    assert!(!path.exists(), "the socket file is left behind");
}

#[test]
fn four_concurrent_clients_in_real_time_all_get_their_transcripts() {
    let server = Server::start(&[]);
    let wavs = [
        "q02.wav",
        "cmd04.wav",
        "num01.wav",
        "name01.wav",
        "dict01.wav",
    ];
    let paths: Vec<String> = wavs
        .iter()
        .map(|w| speech(w).to_str().unwrap().to_string())
        .collect();
    let clients: Vec<_> = (0..4)
        .map(|k| {
            let uri = server.uri.clone();
            let mut mine = paths.clone();
            mine.rotate_left(k);
            std::thread::spawn(move || {
                let o = Command::new(python())
                    .arg(root().join("tests/wyoming/client.py"))
                    .args([uri.as_str(), "stream", "--realtime"])
                    .args(&mine)
                    .output()
                    .unwrap();
                (mine, serde_json::from_slice::<Value>(&o.stdout).unwrap())
            })
        })
        .collect();
    for client in clients {
        let (mine, out) = client.join().unwrap();
        let utterances = out["utterances"].as_array().unwrap();
        assert_eq!(utterances.len(), mine.len());
        for (u, path) in utterances.iter().zip(&mine) {
            let wav = std::path::Path::new(path)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap();
            assert_eq!(u["text"].as_str().unwrap(), transcribe_text(wav), "{wav}");
        }
    }
}

#[test]
fn the_servers_own_list_biases_every_connection_and_names_add_to_it() {
    let server = Server::start(&["--vocabulary", "PostgreSQL"]);
    let clip = root().join("tests/fixtures/vocabulary/term19.wav");
    let clip = clip.to_str().unwrap();
    for args in [
        vec!["stream", clip],
        vec!["stream", "--name", "Living Room", clip],
    ] {
        let out = server.client(&args);
        let text = out["utterances"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(text.contains("PostgreSQL"), "{out}");
    }
}

#[test]
fn transcript_names_bias_the_utterance_they_come_with() {
    // Home Assistant sends its entity and area names with `transcribe`; they are the utterance's vocabulary.
    let server = Server::start(&[]);
    let clip = root().join("tests/fixtures/vocabulary/term19.wav");
    let clip = clip.to_str().unwrap();
    let plain = server.client(&["stream", clip]);
    let named = server.client(&[
        "stream",
        "--name",
        "PostgreSQL",
        "--name",
        "Living Room",
        clip,
    ]);
    let plain = plain["utterances"][0]["text"].as_str().unwrap().to_string();
    let named = named["utterances"][0]["text"].as_str().unwrap().to_string();
    assert!(!plain.contains("PostgreSQL"), "{plain}");
    assert!(named.contains("PostgreSQL"), "{named}");
    // The names apply to that utterance only.
    let again = server.client(&["stream", clip]);
    assert_eq!(again["utterances"][0]["text"].as_str().unwrap(), plain);
    // Where no name is said, the text is exactly what it is without them (the model once heard "Joaquin" in "Eve
    // left her keys").
    let free = root().join("tests/fixtures/vocabulary_harm/free003.wav");
    let free = free.to_str().unwrap();
    let unnamed = server.client(&["stream", free]);
    let named = server.client(&["stream", "--name", "Joaquin", "--name", "Kitchen", free]);
    assert_eq!(
        named["utterances"][0]["text"], unnamed["utterances"][0]["text"],
        "{named}"
    );
    // A name the server refuses (a control character): an `error` where the connection still allows it, and a log
    // line naming why.
    let bad = server.client(&["stream", "--name", "bell\u{7}", clip]);
    let error = bad["utterances"][0]["error"].as_str().unwrap_or_default();
    assert!(
        ["bad-vocabulary", "closed before transcript-stop"].contains(&error),
        "{bad}"
    );
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        server.log().contains("error bad-vocabulary: term"),
        "{}",
        server.log()
    );
}

/// Send SIGTERM to the server; the seconds it took to exit (it must exit with 0 within `limit_s`).
pub fn terminate(server: &mut Server, limit_s: f64) -> f64 {
    assert!(Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let sent = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            return sent.elapsed().as_secs_f64();
        }
        assert!(
            sent.elapsed().as_secs_f64() < limit_s,
            "still running {limit_s} s after SIGTERM:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A raw TCP connection to a `tcp://` URI.
fn connect(uri: &str) -> std::net::TcpStream {
    std::net::TcpStream::connect(uri.trim_start_matches("tcp://")).unwrap()
}

#[test]
fn sigterm_ends_serve_within_the_grace_period_with_idle_slow_and_streaming_clients() {
    // Issue 27: a connection held idle, or with half an event sent, kept `serve` running after SIGTERM for ever.
    let mut server = Server::start(&["--max-connections", "20", "--shutdown-grace-s", "5"]);
    let idle: Vec<_> = (0..8).map(|_| connect(&server.uri)).collect();
    let mut slow: Vec<_> = (0..8).map(|_| connect(&server.uri)).collect();
    let streaming: Vec<_> = ["q02.wav", "cmd04.wav", "num01.wav", "name01.wav"]
        .iter()
        .map(|wav| (*wav, stream_in_background(&server.uri, wav)))
        .collect();
    for _ in 0..2 {
        for s in &mut slow {
            std::io::Write::write_all(s, b"{").unwrap();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let took = terminate(&mut server, 7.0);
    for (wav, client) in streaming {
        // Short utterances finish within the grace period and keep their transcripts.
        let got = client.join().unwrap();
        assert_eq!(
            got["utterances"][0]["text"].as_str().unwrap(),
            transcribe_text(wav),
            "{wav}: {got}"
        );
    }
    assert!(took < 6.5, "took {took:.1} s (grace 5 s)");
    drop((idle, slow));
}

#[test]
fn a_client_trickling_bytes_is_dropped_and_clients_past_the_limit_get_busy() {
    // Issue 27: one byte a second reset the idle timeout for ever, so 8 such clients locked every other one out,
    // and refused clients mostly got a reset instead of `busy`.
    let server = Server::start(&["--max-connections", "2", "--event-timeout-s", "3"]);
    let trickling: Vec<_> = (0..2)
        .map(|_| {
            let uri = server.uri.clone();
            std::thread::spawn(move || {
                let o = Command::new(python())
                    .arg(root().join("tests/wyoming/client.py"))
                    .args([uri.as_str(), "bad", "trickle"])
                    .output()
                    .unwrap();
                serde_json::from_slice::<Value>(&o.stdout).unwrap()
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1000));
    for _ in 0..5 {
        let refused = server.client(&["bad", "idle"]);
        assert_eq!(refused["data"]["code"], "busy", "{refused}");
    }
    for t in trickling {
        let got = t.join().unwrap();
        assert_eq!(got["data"]["code"], "timeout", "{got}");
        assert!(
            got["data"]["text"]
                .as_str()
                .unwrap()
                .contains("not completed within 3 s of its first byte"),
            "{got}"
        );
    }
    // The slots are free again.
    let out = server.client(&["stream", speech("q02.wav").to_str().unwrap()]);
    assert_eq!(
        out["utterances"][0]["text"].as_str().unwrap(),
        transcribe_text("q02.wav")
    );
    // A connection that never sends its first event is closed after the event timeout, not the idle one.
    let silent = server.client(&["bad", "idle"]);
    assert_eq!(
        silent["data"]["text"], "nothing received for 3 s",
        "{silent}"
    );
}

#[test]
fn unix_uris_replace_only_a_stale_socket() {
    // Issue 27: `serve --uri unix://PATH` deleted an existing regular file at PATH.
    let dir = crate::common::scratch_dir("serve-unix-paths");
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "notes\n").unwrap();
    for (uri, says) in [
        (
            format!("unix://{}", notes.display()),
            "exists and is not a socket",
        ),
        ("unix://".to_string(), "no socket path"),
    ] {
        let o = crate::common::earshot(&["serve", "--uri", &uri]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(9), "{uri}: {err}");
        assert!(err.contains(says), "{uri}: {err}");
    }
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "notes\n");
    // A socket left by a server that is gone is replaced; one a server answers on is refused.
    let path = dir.join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let uri = format!("unix://{}", path.display());
    let server = Server::start_at(&uri, &[]);
    let o = crate::common::earshot(&["serve", "--uri", &uri]);
    assert_eq!(o.status.code(), Some(9));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another server is listening there"));
    assert_eq!(server.client(&["describe"])["name"], "earshot");
}

#[test]
fn term_lists_are_capped_before_any_work_and_the_servers_own_list_does_not_count() {
    // Issue 27: 40,000 names were de-duplicated in quadratic time before the limit was checked; with 10,000 terms on
    // the server, one name from the client was refused as "10001 terms".
    let dir = crate::common::scratch_dir("serve-terms");
    let terms = dir.join("terms.txt");
    let list: String = (0..10_000).map(|i| format!("Term{i:05}\n")).collect();
    std::fs::write(&terms, list).unwrap();
    let server = Server::start(&["--vocabulary-file", terms.to_str().unwrap()]);
    let huge = server.client(&["bad", "huge-names"]);
    assert_eq!(huge["data"]["code"], "bad-vocabulary", "{huge}");
    assert!(
        huge["data"]["text"]
            .as_str()
            .unwrap()
            .contains("more than 10000 different terms"),
        "{huge}"
    );
    let clip = root().join("tests/fixtures/vocabulary/term19.wav");
    let named = server.client(&["stream", "--name", "PostgreSQL", clip.to_str().unwrap()]);
    let text = named["utterances"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("PostgreSQL"), "{named}");
}

#[test]
fn a_client_that_half_closes_mid_utterance_gets_the_transcript_of_what_it_sent() {
    let server = Server::start(&[]);
    let got = server.client(&["bad", "half-close"]);
    assert_eq!(
        got["text"].as_str().unwrap(),
        transcribe_text("q02.wav"),
        "{got}"
    );
    assert_eq!(
        got["events"].as_array().unwrap().last().unwrap(),
        "transcript-stop"
    );
}
