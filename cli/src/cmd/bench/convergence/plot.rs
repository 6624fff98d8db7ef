//! The loss-curve plot: held-out loss per window, one line per arm, as SVG.

use super::arms::ArmRun;
use anyhow::{Context, Result, anyhow};
use plotters::prelude::*;
use std::path::Path;

const COLORS: [RGBColor; 6] = [
    RGBColor(200, 40, 40),
    RGBColor(40, 40, 40),
    RGBColor(40, 110, 200),
    RGBColor(40, 160, 80),
    RGBColor(230, 140, 20),
    RGBColor(140, 60, 180),
];

/// Writes the curves of `runs` to `path` (SVG) under `title`.
pub(crate) fn write_svg(path: &Path, title: &str, runs: &[ArmRun]) -> Result<()> {
    let windows = runs
        .iter()
        .map(|r| r.curve.loss.len().saturating_sub(1))
        .max()
        .unwrap_or(0)
        .max(1);
    let losses = runs.iter().flat_map(|r| r.curve.loss.iter().copied());
    let (lo, hi) = losses.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), l| {
        (lo.min(l), hi.max(l))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return Err(anyhow!("no finite loss to plot"));
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    let draw = |e: DrawingAreaErrorKind<_>| anyhow!("drawing {}: {e}", path.display());
    root.fill(&WHITE).map_err(draw)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..windows as f64, (lo - pad)..(hi + pad))
        .map_err(draw)?;
    chart
        .configure_mesh()
        .x_desc("window")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("held-out loss")
        .draw()
        .map_err(draw)?;
    for (run, color) in runs.iter().zip(COLORS.iter().cycle()) {
        let points = run
            .curve
            .loss
            .iter()
            .enumerate()
            .map(|(w, &l)| (w as f64, l));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(draw)?
            .label(run.arm.name())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(draw)?;
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
