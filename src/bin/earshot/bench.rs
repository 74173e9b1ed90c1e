//! `earshot bench`: a corpus through the live path, every stage timed; `--compare` sets two saved runs side by side.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use earshot::audio::Pacing;
use earshot::bench::{BenchOptions, BenchReport, Corpus};
use earshot::{ConfigSource, Error};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{source_tree, BenchArgs, Overrides};
use crate::StopSignal;

/// The bundled corpus, in the source tree.
const CORPUS: &str = "tests/fixtures/speech/manifest.tsv";

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(files) = &args.compare {
        let a = BenchReport::load(&files[0])?;
        let b = BenchReport::load(&files[1])?;
        print!("{}", earshot::bench::compare(&a, &b));
        return Ok(ExitCode::SUCCESS);
    }
    let mut profile = args.common.load_profile(Overrides {
        threads: args.threads,
        ..Overrides::default()
    })?;
    args.vocabulary.apply(&mut profile)?;
    let soak_s = args.soak.map(|m| m * 60.0);
    if soak_s.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        anyhow::bail!(Error::Config {
            origin: ConfigSource::CommandLine,
            reason: "--soak takes a positive number of minutes".into(),
        });
    }
    let corpus_path = args
        .corpus
        .clone()
        .unwrap_or_else(|| source_tree().join(CORPUS));
    let corpus = Corpus::load(&corpus_path)?;
    // Outputs are checked before the run, not found unwritable after it.
    for path in args.json.iter().chain(&args.plot) {
        earshot::sink::check_writable(path)?;
    }
    let pacing = if args.fast || soak_s.is_some() {
        // Not live: decoder steps come back to back, as in `earshot transcribe`.
        profile.runtime = profile.runtime.for_files();
        Pacing::Fast
    } else {
        Pacing::RealTime
    };
    let model = args.common.load_model(&profile)?;
    let options = BenchOptions {
        pacing,
        gap_ms: args.gap_ms,
        min_audio_s: soak_s.unwrap_or(0.0),
        partials: !args.no_partials,
    };
    let expected_s = soak_s
        .unwrap_or(0.0)
        .max(corpus.seconds() + corpus.clips.len() as f64 * f64::from(args.gap_ms) / 1000.0);
    let bar = (!args.common.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(expected_s.ceil() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "bench [{bar:30}] {pos}/{len} s audio, {elapsed} elapsed, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let signal = StopSignal::install()?;
    signal.running();
    let stop = signal.stop;
    let result = earshot::bench::run(
        model,
        &profile,
        &corpus,
        &options,
        stop.clone(),
        |audio_s| {
            if let Some(bar) = &bar {
                bar.set_position(audio_s as u64);
            }
        },
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut report = result?;
    if stop.load(Ordering::SeqCst) {
        say!(
            "earshot: interrupted after {:.1} s of audio; the report covers what ran",
            report.run.audio_s
        );
    }
    report.command = std::env::args().collect::<Vec<_>>().join(" ");
    print!("{}", report.table());
    if let Some(path) = &args.json {
        report.save(path)?;
        say!("earshot: wrote {}", path.display());
    }
    if let Some(path) = &args.plot {
        earshot::bench::draw_plot(&report, path)?;
        say!("earshot: wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
