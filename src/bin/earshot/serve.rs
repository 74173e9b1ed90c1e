//! `earshot serve`: the Wyoming speech-to-text server, until Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use earshot::wyoming::{serve, Listener, ServeOptions};
use earshot::Recognizer;

use crate::args::{Overrides, ServeArgs};
use crate::StopSignal;

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut profile = args.common.load_profile(Overrides {
        threads: args.threads,
        ..Overrides::default()
    })?;
    // Only finals reach the client (a chunk can never be taken back): no partial decodes.
    profile.partials.interval_ms = 0;
    args.vocabulary.apply(&mut profile)?;
    let model = args.common.load_model(&profile)?;
    let recognizer = Recognizer::new(model, profile.recognizer_config())?;
    let listener = Listener::bind(&args.uri)?;
    let signal = StopSignal::install()?;
    signal.running();
    let stop = signal.stop;
    say!(
        "earshot: serving Wyoming speech-to-text on {} (profile {}, up to {} connection(s); Ctrl-C to stop)",
        listener.uri(),
        profile.name,
        args.max_connections
    );
    let options = ServeOptions {
        max_connections: args.max_connections,
        idle_timeout: Duration::from_secs(args.idle_timeout_s),
        event_timeout: Duration::from_secs(args.event_timeout_s),
        write_timeout: Duration::from_secs(args.write_timeout_s),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_s),
        ..ServeOptions::default()
    };
    serve(
        listener,
        recognizer,
        options,
        stop,
        Arc::new(|line: &str| say!("earshot: {line}")),
    )?;
    say!("earshot: stopped serving");
    Ok(ExitCode::SUCCESS)
}
