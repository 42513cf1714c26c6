//! Loss and learning-rate curves of a run as SVG files (plotters, SVG backend):
//! `RUN/loss.svg` (train loss per step, validation loss at its steps) and `RUN/lr.svg`.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::pretrain::read_metrics;

/// Writes loss.svg and lr.svg into `run` from its metrics.jsonl; returns their paths.
pub fn plot_run(run: &Path) -> Result<Vec<PathBuf>, String> {
    let records = read_metrics(&run.join("metrics.jsonl"))?;
    let train: Vec<(f64, f64)> = records.iter().filter_map(|r| Some((r.step as f64, r.loss?))).collect();
    let val: Vec<(f64, f64)> = records.iter().filter_map(|r| Some((r.step as f64, r.val_loss?))).collect();
    let lr: Vec<(f64, f64)> = records.iter().filter_map(|r| Some((r.step as f64, r.lr?))).collect();
    if train.is_empty() {
        return Err(format!("{}: no training steps recorded yet", run.join("metrics.jsonl").display()));
    }
    let loss_path = run.join("loss.svg");
    line_chart(&loss_path, "loss", &[("train", &train, BLUE), ("validation", &val, RED)])?;
    let lr_path = run.join("lr.svg");
    line_chart(&lr_path, "learning rate", &[("lr", &lr, GREEN)])?;
    Ok(vec![loss_path, lr_path])
}

type Series<'a> = (&'a str, &'a [(f64, f64)], RGBColor);

fn line_chart(path: &Path, y_label: &str, series: &[Series]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let points = series.iter().flat_map(|s| s.1.iter());
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if y_min >= y_max {
        y_max = y_min + 1.0;
    }
    let pad = (y_max - y_min) * 0.05;
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, (y_min - pad)..(y_max + pad))
        .map_err(|e| err(&e))?;
    chart.configure_mesh().x_desc("step").y_desc(y_label).draw().map_err(|e| err(&e))?;
    for &(name, data, color) in series {
        if data.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(data.iter().copied(), color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
