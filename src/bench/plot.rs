//! `--plot FILE.svg|FILE.png`: latency distributions of a run as empirical CDFs (plotters), two panels: the
//! user-facing latencies, and the model's per-call times. Text uses the embedded DejaVu Sans font, so PNGs need no
//! system fonts.

use std::path::Path;

use plotters::prelude::*;

use super::BenchReport;
use crate::error::{Error, Result};

type Series = (String, Vec<f64>);

/// Plot size in pixels.
const SIZE: (u32, u32) = (1280, 520);

/// Draw `report` to `path`: SVG or PNG, by its extension.
pub fn draw(report: &BenchReport, path: &Path) -> Result<()> {
    let fail = |e: String| Error::output(path, format!("cannot draw the plot: {e}"));
    static FONT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let font = FONT.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if !font {
        return Err(fail("the embedded font did not load".into()));
    }
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    crate::sink::write_atomic_with(path, |_, temporary| match extension.as_str() {
        "svg" => render(report, SVGBackend::new(temporary, SIZE).into_drawing_area()).map_err(fail),
        "png" => render(
            report,
            BitMapBackend::new(temporary, SIZE).into_drawing_area(),
        )
        .map_err(fail),
        _ => Err(fail("give a file name ending in .svg or .png".into())),
    })
}

fn render<DB: DrawingBackend>(
    report: &BenchReport,
    root: DrawingArea<DB, plotters::coord::Shift>,
) -> std::result::Result<(), String> {
    let raw = &report.raw;
    let r = &report.results;
    // Drawn where the report has the summary too: as fast as possible, waits are queueing, not latency.
    let latencies: Vec<Series> = [
        (
            r.first_partial_ms.is_some(),
            "first partial",
            raw.first_partial_ms.clone(),
        ),
        (
            r.endpoint_wait_ms.is_some(),
            "endpoint wait",
            raw.finals
                .iter()
                .filter_map(|f| f.endpoint_wait_ms)
                .collect(),
        ),
        (
            r.compute_after_endpoint_ms.is_some(),
            "compute after endpoint",
            raw.finals
                .iter()
                .map(|f| f.compute_after_endpoint_ms)
                .collect(),
        ),
        (
            r.final_ms.is_some(),
            "final (wait + compute)",
            raw.finals
                .iter()
                .filter_map(|f| f.endpoint_wait_ms.map(|w| w + f.compute_after_endpoint_ms))
                .collect(),
        ),
    ]
    .into_iter()
    .filter(|(reported, _, _)| *reported)
    .map(|(_, name, values)| (name.to_string(), values))
    .collect();
    let to_ms = |v: &[u64]| v.iter().map(|&ns| ns as f64 / 1e6).collect::<Vec<f64>>();
    let mut calls: Vec<Series> = raw
        .stages
        .encoder_ns
        .iter()
        .map(|(frames, v)| (format!("encoder, {frames} frames"), to_ms(v)))
        .collect();
    calls.push(("decoder call".into(), to_ms(&raw.stages.decoder_call_ns)));
    calls.push((
        "final decode (enc + dec)".into(),
        raw.finals.iter().map(|f| f.decode_ms).collect(),
    ));

    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let title = format!(
        "earshot bench: {} profile, {} replay, {} ({} cores)",
        report.profile.name, report.run.mode, report.machine.cpu, report.machine.cores
    );
    let root = root
        .titled(&title, ("sans-serif", 18))
        .map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    panel(&left, "latency (ms), live path", &latencies)?;
    panel(&right, "model time per call (ms)", &calls)?;
    root.present().map_err(|e| e.to_string())
}

/// One panel: the empirical CDF of each non-empty series, x from 0 to the largest p99.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    series: &[Series],
) -> std::result::Result<(), String> {
    let sorted: Vec<(&str, Vec<f64>)> = series
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, v)| {
            let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            v.sort_by(f64::total_cmp);
            (name.as_str(), v)
        })
        .collect();
    let x_max = sorted
        .iter()
        .map(|(_, v)| v[(v.len() * 99 / 100).min(v.len() - 1)])
        .fold(1.0f64, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..x_max, 0.0..1.0)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("ms")
        .y_desc("fraction <= x")
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, (name, v)) in sorted.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let n = v.len() as f64;
        let points = v
            .iter()
            .enumerate()
            .flat_map(|(k, &x)| [(x, k as f64 / n), (x, (k + 1) as f64 / n)]);
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(format!(
                "{name} (n={}, p95 {:.1})",
                v.len(),
                v[((v.len() as f64 * 0.95).ceil() as usize).clamp(1, v.len()) - 1]
            ))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())
}
