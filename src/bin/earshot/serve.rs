//! `earshot serve`: Wyoming and the OpenAI API (HTTP and the Realtime WebSocket) on one serving layer, until Ctrl-C
//! or SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use earshot::serve::{serve, Core, Listener, ServeOptions};
use earshot::{Error, Recognizer};

use crate::args::{Overrides, ServeArgs};
use crate::StopSignal;

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut profile = args.common.load_profile(Overrides {
        threads: args.threads,
        ..Overrides::default()
    })?;
    args.vocabulary.apply(&mut profile)?;
    let model = args.common.load_model(&profile)?;
    let recognizer = Recognizer::new(model, profile.recognizer_config())?;
    let uri = match (&args.uri, &args.http) {
        (None, Some(_)) => None,
        (uri, _) => Some(
            uri.clone()
                .unwrap_or_else(|| "tcp://127.0.0.1:10300".into()),
        ),
    };
    let wyoming = uri.as_deref().map(Listener::bind).transpose()?;
    let http = args
        .http
        .as_deref()
        .map(|address| {
            std::net::TcpListener::bind(address).map_err(|e| Error::Listen {
                uri: format!("http://{address}"),
                reason: format!("{e} (give HOST:PORT, e.g. 127.0.0.1:8000)"),
            })
        })
        .transpose()?;
    let signal = StopSignal::install()?;
    signal.running();
    let options = ServeOptions {
        max_connections: args.max_connections,
        idle_timeout: Duration::from_secs(args.idle_timeout_s),
        event_timeout: Duration::from_secs(args.event_timeout_s),
        request_timeout: Duration::from_secs(args.request_timeout_s),
        write_timeout: Duration::from_secs(args.write_timeout_s),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_s),
        api_key: args.api_key.clone().filter(|k| !k.is_empty()),
        ..ServeOptions::default()
    };
    let mut serving = Vec::new();
    if let Some(listener) = &wyoming {
        serving.push(format!("Wyoming speech-to-text on {}", listener.uri()));
    }
    if let Some(listener) = &http {
        let address = listener.local_addr()?;
        serving.push(format!("the OpenAI API on http://{address}/v1"));
        if options.api_key.is_none() && !address.ip().is_loopback() {
            say!(
                "earshot: warning: the OpenAI API on {address} is reachable from the network without a key: anyone \
                 who can reach it can use it; give --api-key KEY (or EARSHOT_API_KEY)"
            );
        }
    }
    say!(
        "earshot: serving {} (profile {}, up to {} session(s); Ctrl-C to stop)",
        serving.join(" and "),
        profile.name,
        args.max_connections
    );
    let core = Core::new(recognizer, options, signal.stop, |line: &str| {
        say!("earshot: {line}")
    })?;
    serve(core, wyoming, http)?;
    say!("earshot: stopped serving");
    Ok(ExitCode::SUCCESS)
}
