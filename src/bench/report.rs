//! The benchmark report: summaries of the raw measurements, the JSON document, the terminal table and the
//! comparison of two runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{word_errors, BenchOptions, Corpus, Machine, RawMeasurements};
use crate::audio::Pacing;
use crate::config::Profile;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::timings::StageTimes;

/// Distribution of one measurement (nearest-rank percentiles), in the unit its name gives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Samples.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Summary {
    /// Summarize `values` (`None` when empty).
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Summary> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| v[((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Some(Summary {
            count: v.len(),
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p50: rank(50.0),
            p95: rank(95.0),
            p99: rank(99.0),
            max: v[v.len() - 1],
        })
    }
}

/// Which model ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelIdentity {
    /// Pack name from the manifest.
    pub name: String,
    /// Pack folder.
    pub folder: String,
    /// SHA-256 of the pack's files, from the verified manifest.
    pub checksums: BTreeMap<String, String>,
    /// ONNX Runtime version the crate is built for.
    pub onnxruntime: String,
}

/// How the run was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunIdentity {
    /// `real-time` or `fast`.
    pub mode: String,
    /// Corpus manifest or folder.
    pub corpus: String,
    /// Clips in the corpus.
    pub clips: usize,
    /// Silence after each clip, ms.
    pub gap_ms: u32,
    /// Sample rate the capture side was fed, Hz.
    pub capture_rate_hz: u32,
    /// Seconds of audio streamed (clips and gaps, all passes).
    pub audio_s: f64,
    /// Wall seconds from the first block to the last event.
    pub wall_s: f64,
}

/// Word error rate over the clips with references.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WerResult {
    /// Word edits.
    pub errors: usize,
    /// Reference words.
    pub words: usize,
    /// Percent.
    pub percent: f64,
}

/// Sentences with a pause inside, and how many the endpointer ended in the pause.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CutInPause {
    /// Clips with a pause span.
    pub clips: usize,
    /// Of those, the clips with a final that ended before the pause did.
    pub cut: usize,
    /// `cut` over `clips`, in percent.
    pub percent: f64,
}

/// The headline numbers of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Per-stage distributions: `capture_per_frame_us`, `ring_wait_ms`, `encoder_<frames>_ms`, `decoder_call_ms`,
    /// `detokenize_us`.
    pub stages: BTreeMap<String, Summary>,
    /// First-partial latency, ms.
    pub first_partial_ms: Option<Summary>,
    /// Endpoint wait, ms.
    pub endpoint_wait_ms: Option<Summary>,
    /// Compute after the endpoint, ms.
    pub compute_after_endpoint_ms: Option<Summary>,
    /// Final latency (endpoint wait + compute after it), ms.
    pub final_ms: Option<Summary>,
    /// Encoder + decoder time of each final decode, ms (the work the speculative final hides).
    pub final_decode_ms: Option<Summary>,
    /// Wall time / audio time; only as fast as possible (`None` in real time, where it is 1 by construction).
    pub rtf: Option<f64>,
    /// Process CPU seconds (all threads) per second of audio.
    pub cpu_s_per_audio_s: f64,
    /// Peak resident memory of the process (model load included), MB.
    pub peak_rss_mb: f64,
    /// Model load time, ms.
    pub load_ms: f64,
    /// Frames the ring dropped.
    pub overruns: u64,
    /// Frames the recognizer found missing.
    pub lost_frames: u64,
    /// Partial events.
    pub partials: usize,
    /// Final events.
    pub finals: usize,
    /// Clips with a non-empty reference that got no final text (lost finals).
    pub missed_clips: usize,
    /// Clips without speech (empty reference) that got text.
    pub false_finals: usize,
    /// WER, when the corpus has references.
    pub wer: Option<WerResult>,
    /// Clips with a pause inside an unfinished sentence (the manifest's `pause` column) and how many of them were
    /// ended inside the pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_in_pause: Option<CutInPause>,
    /// Drift between the start and the end of a soak run (`--soak`).
    pub soak: Option<Soak>,
}

impl Results {
    /// Every distribution by name: the stages, then the latencies (`None` where there were no samples, or, as fast
    /// as possible, for latencies that would only be queueing).
    pub fn distributions(&self) -> Vec<(String, Option<&Summary>)> {
        let mut all: Vec<(String, Option<&Summary>)> = self
            .stages
            .iter()
            .map(|(name, s)| (name.clone(), Some(s)))
            .collect();
        all.extend([
            (
                "first_partial_ms".to_string(),
                self.first_partial_ms.as_ref(),
            ),
            (
                "endpoint_wait_ms".to_string(),
                self.endpoint_wait_ms.as_ref(),
            ),
            (
                "compute_after_endpoint_ms".to_string(),
                self.compute_after_endpoint_ms.as_ref(),
            ),
            ("final_ms".to_string(), self.final_ms.as_ref()),
            ("final_decode_ms".to_string(), self.final_decode_ms.as_ref()),
        ]);
        all
    }
}

/// Memory and latency drift over a long run: the first and the last `window_s` of stream audio.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Soak {
    /// Window length, seconds of audio.
    pub window_s: f64,
    /// Resident memory at the first endpoint (cold: buffers for longer encoder windows not yet allocated), MB.
    pub rss_start_mb: f64,
    /// Resident memory at the end of the first window (warm), MB: growth is measured from here.
    pub rss_warm_mb: f64,
    /// Resident memory at the last endpoint, MB.
    pub rss_end_mb: f64,
    /// Largest resident memory sampled at an endpoint, MB.
    pub rss_max_mb: f64,
    /// Final decode time (encoder + decoder), first window.
    pub first_decode_ms: Option<Summary>,
    /// Final decode time, last window.
    pub last_decode_ms: Option<Summary>,
    /// Compute after the endpoint, first window.
    pub first_compute_after_endpoint_ms: Option<Summary>,
    /// Compute after the endpoint, last window.
    pub last_compute_after_endpoint_ms: Option<Summary>,
}

impl Soak {
    fn of(raw: &RawMeasurements, audio_s: f64, window_s: f64) -> Option<Soak> {
        let first = raw.rss.first()?;
        let last = raw.rss.last()?;
        let warm = raw
            .rss
            .iter()
            .take_while(|r| r.audio_s <= window_s)
            .last()
            .unwrap_or(first);
        let window = |early: bool| {
            raw.finals.iter().filter(move |f| {
                if early {
                    f.audio_s <= window_s
                } else {
                    f.audio_s >= audio_s - window_s
                }
            })
        };
        Some(Soak {
            window_s,
            rss_start_mb: first.rss_mb,
            rss_warm_mb: warm.rss_mb,
            rss_end_mb: last.rss_mb,
            rss_max_mb: raw.rss.iter().map(|r| r.rss_mb).fold(0.0, f64::max),
            first_decode_ms: Summary::of(window(true).map(|f| f.decode_ms)),
            last_decode_ms: Summary::of(window(false).map(|f| f.decode_ms)),
            first_compute_after_endpoint_ms: Summary::of(
                window(true).map(|f| f.compute_after_endpoint_ms),
            ),
            last_compute_after_endpoint_ms: Summary::of(
                window(false).map(|f| f.compute_after_endpoint_ms),
            ),
        })
    }
}

/// A whole benchmark run: identity, headline results and raw measurements (the `--json` document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// earshot version.
    pub earshot_version: String,
    /// The command line, when the CLI made the run.
    pub command: String,
    /// Seconds since the Unix epoch at the end of the run.
    pub timestamp: u64,
    /// The machine.
    pub machine: Machine,
    /// The profile, in full.
    pub profile: Profile,
    /// The model.
    pub model: ModelIdentity,
    /// The run.
    pub run: RunIdentity,
    /// Headline results.
    pub results: Results,
    /// Every measurement.
    pub raw: RawMeasurements,
}

/// Everything `run` measured, to build a report from.
pub(super) struct RunFacts<'a> {
    pub model: &'a Model,
    pub profile: &'a Profile,
    pub corpus: &'a Corpus,
    pub options: &'a BenchOptions,
    pub capture_rate_hz: u32,
    pub audio_s: f64,
    pub wall_s: f64,
    pub cpu_s: f64,
    pub peak_rss_mb: f64,
    pub overruns: u64,
    pub lost_frames: u64,
    pub partials: usize,
    pub raw: RawMeasurements,
}

/// The soak report compares the first and last ten minutes (the two halves of a run shorter than 20 minutes).
const SOAK_WINDOW_S: f64 = 600.0;

fn ns_to(unit_ns: f64, values: &[u64]) -> Option<Summary> {
    Summary::of(values.iter().map(|&v| v as f64 / unit_ns))
}

impl Results {
    fn of(f: &RunFacts) -> Results {
        let raw = &f.raw;
        let stages = stage_summaries(&raw.stages);
        // As fast as possible, frames queue in the ring ahead of the recognizer: waits are queueing, not latency.
        let real_time = f.options.pacing == Pacing::RealTime;
        let wait: Vec<f64> = raw
            .finals
            .iter()
            .filter(|_| real_time)
            .filter_map(|x| x.endpoint_wait_ms)
            .collect();
        let wer = word_errors(&raw.clips).map(|c| WerResult {
            errors: c.errors,
            words: c.words,
            percent: c.percent(),
        });
        let has_reference = |empty: bool| {
            raw.clips.iter().filter(move |c| {
                c.reference
                    .as_ref()
                    .is_some_and(|r| r.trim().is_empty() == empty)
            })
        };
        Results {
            stages,
            first_partial_ms: Summary::of(
                raw.first_partial_ms.iter().copied().filter(|_| real_time),
            ),
            endpoint_wait_ms: Summary::of(wait.iter().copied()),
            compute_after_endpoint_ms: Summary::of(
                raw.finals.iter().map(|x| x.compute_after_endpoint_ms),
            ),
            final_ms: Summary::of(
                raw.finals
                    .iter()
                    .filter(|_| real_time)
                    .filter_map(|x| x.endpoint_wait_ms.map(|w| w + x.compute_after_endpoint_ms)),
            ),
            final_decode_ms: Summary::of(raw.finals.iter().map(|x| x.decode_ms)),
            rtf: (f.options.pacing == Pacing::Fast).then(|| f.wall_s / f.audio_s.max(1e-9)),
            cpu_s_per_audio_s: f.cpu_s / f.audio_s.max(1e-9),
            peak_rss_mb: f.peak_rss_mb,
            load_ms: f.model.load_time().as_secs_f64() * 1000.0,
            overruns: f.overruns,
            lost_frames: f.lost_frames,
            partials: f.partials,
            finals: raw.finals.len(),
            missed_clips: has_reference(false)
                .filter(|c| c.hypothesis.is_empty())
                .count(),
            false_finals: has_reference(true)
                .filter(|c| !c.hypothesis.is_empty())
                .count(),
            wer,
            cut_in_pause: {
                let paused: Vec<bool> = raw.clips.iter().filter_map(|c| c.cut_in_pause).collect();
                let cut = paused.iter().filter(|&&cut| cut).count();
                (!paused.is_empty()).then(|| CutInPause {
                    clips: paused.len(),
                    cut,
                    percent: 100.0 * cut as f64 / paused.len() as f64,
                })
            },
            soak: (f.options.min_audio_s > 0.0)
                .then(|| Soak::of(raw, f.audio_s, SOAK_WINDOW_S.min(f.audio_s / 2.0)))
                .flatten(),
        }
    }
}

/// Summaries of every stage's raw times, in the units their names give.
fn stage_summaries(s: &StageTimes) -> BTreeMap<String, Summary> {
    let mut stages = BTreeMap::new();
    let mut put = |name: String, summary: Option<Summary>| {
        if let Some(summary) = summary {
            stages.insert(name, summary);
        }
    };
    put(
        "capture_per_frame_us".into(),
        ns_to(1e3, &s.capture_per_frame_ns),
    );
    put("ring_wait_ms".into(), ns_to(1e6, &s.ring_wait_ns));
    for (frames, times) in &s.encoder_ns {
        put(format!("encoder_{frames:04}_ms"), ns_to(1e6, times));
    }
    put("decoder_call_ms".into(), ns_to(1e6, &s.decoder_call_ns));
    put("detokenize_us".into(), ns_to(1e3, &s.detokenize_ns));
    stages
}

impl BenchReport {
    pub(super) fn new(f: RunFacts) -> BenchReport {
        let results = Results::of(&f);
        let raw = f.raw;
        let manifest = f.model.manifest();
        BenchReport {
            earshot_version: env!("CARGO_PKG_VERSION").to_string(),
            command: String::new(),
            timestamp: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            machine: Machine::detect(),
            profile: f.profile.clone(),
            model: ModelIdentity {
                name: manifest.name.clone(),
                folder: f.model.folder().display().to_string(),
                checksums: manifest.checksums.clone(),
                onnxruntime: crate::model::ORT_VERSION.to_string(),
            },
            run: RunIdentity {
                mode: match f.options.pacing {
                    Pacing::RealTime => "real-time",
                    Pacing::Fast => "fast",
                }
                .into(),
                corpus: f.corpus.source.display().to_string(),
                clips: f.corpus.clips.len(),
                gap_ms: f.options.gap_ms,
                capture_rate_hz: f.capture_rate_hz,
                audio_s: f.audio_s,
                wall_s: f.wall_s,
            },
            results,
            raw,
        }
    }

    /// Read a report written by `earshot bench --json`.
    pub fn load(path: &Path) -> Result<BenchReport> {
        let text = crate::text_file::read_text(path, 256 << 20, "an earshot bench report (JSON)")
            .map_err(|reason| Error::Audio {
            path: path.to_path_buf(),
            reason,
        })?;
        let bad = |reason: String| Error::Audio {
            path: path.to_path_buf(),
            reason: format!(
                "not an earshot bench report ({reason}); make one with `earshot bench --json FILE`"
            ),
        };
        let report: BenchReport = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        // Every headline number is a time, a size, a rate or a count: finite and not negative.
        if let Some((name, value)) = report.headline().into_iter().find_map(|(name, v)| {
            v.filter(|v| !(v.is_finite() && *v >= 0.0))
                .map(|v| (name, v))
        }) {
            return Err(bad(format!("{name} is {value}")));
        }
        Ok(report)
    }

    /// Write the report as JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::output(path, e))?;
        crate::sink::write_atomic(path, (text + "\n").as_bytes())
    }

    /// The headline numbers as `(name, value)` rows (ms unless named otherwise), for tables and comparisons.
    pub fn headline(&self) -> Vec<(String, Option<f64>)> {
        let r = &self.results;
        let mut rows: Vec<(String, Option<f64>)> = Vec::new();
        for (name, s) in r.distributions() {
            let name = name.replace('_', " ");
            rows.push((format!("{name} p50"), s.map(|s| s.p50)));
            rows.push((format!("{name} p95"), s.map(|s| s.p95)));
        }
        rows.push(("RTF".into(), r.rtf));
        rows.push(("CPU s per audio s".into(), Some(r.cpu_s_per_audio_s)));
        rows.push(("peak RSS MB".into(), Some(r.peak_rss_mb)));
        rows.push(("model load ms".into(), Some(r.load_ms)));
        rows.push(("ring overruns".into(), Some(r.overruns as f64)));
        rows.push(("WER %".into(), r.wer.map(|w| w.percent)));
        rows.push((
            "cut in the pause %".into(),
            r.cut_in_pause.map(|c| c.percent),
        ));
        rows
    }

    /// The terminal table.
    pub fn table(&self) -> String {
        let r = &self.results;
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(
            out,
            "earshot bench: profile {}, {} ({}), {:.1} s of audio in {:.1} s, {} clips\nmachine: {} ({} cores, {}), model {}",
            self.profile.name,
            self.run.mode,
            self.run.corpus,
            self.run.audio_s,
            self.run.wall_s,
            self.run.clips,
            m.cpu,
            m.cores,
            m.arch,
            self.model.name
        );
        let _ = writeln!(
            out,
            "\n{:<28} {:>7} {:>10} {:>10} {:>10} {:>10}",
            "stage / latency", "count", "p50", "p95", "p99", "max"
        );
        for (name, s) in r.distributions() {
            if let Some(s) = s {
                let _ = writeln!(
                    out,
                    "{name:<28} {:>7} {:>10.3} {:>10.3} {:>10.3} {:>10.3}",
                    s.count, s.p50, s.p95, s.p99, s.max
                );
            }
        }
        if r.rtf.is_some() {
            let _ = writeln!(
                out,
                "(as fast as possible: first-partial, endpoint-wait and final latencies need real-time replay; the ring \
                 wait above is queueing)"
            );
        }
        let _ = writeln!(out);
        if let Some(rtf) = r.rtf {
            let _ = writeln!(out, "RTF                    {rtf:.4}");
        }
        let _ = writeln!(out, "CPU s per audio s      {:.4}", r.cpu_s_per_audio_s);
        let _ = writeln!(out, "peak RSS               {:.1} MB", r.peak_rss_mb);
        let _ = writeln!(out, "model load             {:.0} ms", r.load_ms);
        let _ = writeln!(
            out,
            "ring overruns          {} (lost frames {})",
            r.overruns, r.lost_frames
        );
        let _ = writeln!(
            out,
            "events                 {} partials, {} finals; {} speech clips without a final, {} silent clips with text",
            r.partials, r.finals, r.missed_clips, r.false_finals
        );
        if let Some(soak) = &r.soak {
            soak.write_summary(&mut out);
        }
        if let Some(w) = r.wer {
            let _ = writeln!(
                out,
                "WER                    {:.2}% ({} errors / {} words)",
                w.percent, w.errors, w.words
            );
        }
        if let Some(c) = r.cut_in_pause {
            let _ = writeln!(
                out,
                "cut in the pause       {:.0}% ({} of {} sentences with a pause ended inside it)",
                c.percent, c.cut, c.clips
            );
        }
        out
    }
}

impl Soak {
    /// The soak lines of the table.
    fn write_summary(&self, out: &mut String) {
        let p95 = |s: &Option<Summary>| {
            s.map_or("-".to_string(), |s| {
                format!("{:.1} ms (n={})", s.p95, s.count)
            })
        };
        let _ = writeln!(
            out,
            "soak: RSS {:.1} MB at the first endpoint, {:.1} MB after the first {:.0} s (warm), {:.1} MB at the \
             last endpoint: growth after warm-up {:+.1} MB (max {:.1})\n      \
             final decode p95 first {:.0} s: {}, last {:.0} s: {}\n      \
             compute after endpoint p95 first: {}, last: {}",
            self.rss_start_mb,
            self.rss_warm_mb,
            self.window_s,
            self.rss_end_mb,
            self.rss_end_mb - self.rss_warm_mb,
            self.rss_max_mb,
            self.window_s,
            p95(&self.first_decode_ms),
            self.window_s,
            p95(&self.last_decode_ms),
            p95(&self.first_compute_after_endpoint_ms),
            p95(&self.last_compute_after_endpoint_ms),
        );
    }
}

/// Side-by-side table of two runs: each headline number and B / A.
pub fn compare(a: &BenchReport, b: &BenchReport) -> String {
    let mut out = String::new();
    let who = |r: &BenchReport| {
        format!(
            "profile {}, {}, {} on {} ({} cores)\n   `{}`",
            r.profile.name,
            r.run.mode,
            r.machine.hostname,
            r.machine.cpu,
            r.machine.cores,
            r.command
        )
    };
    let _ = writeln!(out, "A: {}\nB: {}\n", who(a), who(b));
    let _ = writeln!(out, "{:<34} {:>10} {:>10} {:>8}", "", "A", "B", "B/A");
    let b_rows: BTreeMap<String, Option<f64>> = b.headline().into_iter().collect();
    for (name, va) in a.headline() {
        let vb = b_rows.get(&name).copied().flatten();
        let cell = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        let ratio = match (va, vb) {
            (Some(x), Some(y)) if x > 0.0 => format!("{:.2}", y / x),
            _ => "-".into(),
        };
        if va.is_some() || vb.is_some() {
            let _ = writeln!(
                out,
                "{name:<34} {:>10} {:>10} {ratio:>8}",
                cell(va),
                cell(vb)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Summary;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Summary::of((1..=100).map(f64::from)).unwrap();
        assert_eq!(
            (s.count, s.p50, s.p95, s.p99, s.max),
            (100, 50.0, 95.0, 99.0, 100.0)
        );
        assert_eq!(s.mean, 50.5);
        let one = Summary::of([7.0]).unwrap();
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
        assert!(Summary::of([f64::NAN]).is_none());
        assert!(Summary::of([]).is_none());
    }
}
