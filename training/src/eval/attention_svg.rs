//! The paper's Figure 10 for our models: attention paid to the system message by every
//! position of a dialogue, one row per layer, before and after Ghost Attention, as an SVG
//! heatmap (written by hand: rectangles and text, no plotting dependency needed).

use std::fmt::Write;

const CELL_W: f64 = 2.0;
const CELL_H: f64 = 22.0;
const LEFT: f64 = 70.0;
const TOP: f64 = 40.0;
const PANEL_GAP: f64 = 46.0;

/// An SVG of `panels` (a title and `[layers][T]` attention masses each), on one shared
/// colour scale (white = 0 → dark blue = the largest mass of any panel at positions ≥
/// `scale_from`, so the system message's own tokens, which attend only to themselves, do
/// not wash out the rest; larger values saturate), with a dashed line at each of
/// `turn_starts` (the positions where a dialogue turn begins).
pub fn attention_heatmap_svg(
    title: &str,
    panels: &[(&str, &[Vec<f32>])],
    turn_starts: &[usize],
    scale_from: usize,
) -> String {
    let positions = panels.iter().flat_map(|(_, p)| p.iter().map(Vec::len)).max().unwrap_or(0);
    let layers = panels.iter().map(|(_, p)| p.len()).max().unwrap_or(0);
    let max = panels
        .iter()
        .flat_map(|(_, p)| p.iter().flat_map(|row| row.iter().skip(scale_from)))
        .fold(0.0f32, |a, &b| a.max(b))
        .max(1e-6);
    let panel_h = layers as f64 * CELL_H;
    let width = LEFT + positions as f64 * CELL_W + 20.0;
    let height = TOP + panels.len() as f64 * (panel_h + PANEL_GAP) + 20.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="20" font-size="14">{}</text>"#, escape(title));
    for (p, (name, rows)) in panels.iter().enumerate() {
        let y0 = TOP + p as f64 * (panel_h + PANEL_GAP) + 16.0;
        let _ = writeln!(svg, r#"<text x="{LEFT}" y="{:.1}">{}</text>"#, y0 - 4.0, escape(name));
        for (l, row) in rows.iter().enumerate() {
            let y = y0 + l as f64 * CELL_H;
            let _ = writeln!(svg, r#"<text x="4" y="{:.1}">layer {l}</text>"#, y + CELL_H * 0.7);
            for (t, &m) in row.iter().enumerate() {
                let v = (m / max).clamp(0.0, 1.0);
                // white → rgb(8, 48, 107)
                let mix = |hi: f64, lo: f64| (hi + (lo - hi) * f64::from(v)).round() as u8;
                let (r, g, b) = (mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0));
                let _ = writeln!(
                    svg,
                    r#"<rect x="{:.1}" y="{y:.1}" width="{CELL_W}" height="{CELL_H}" fill="rgb({r},{g},{b})"/>"#,
                    LEFT + t as f64 * CELL_W
                );
            }
        }
        for &s in turn_starts {
            let x = LEFT + s as f64 * CELL_W;
            let _ = writeln!(
                svg,
                r#"<line x1="{x:.1}" y1="{y0:.1}" x2="{x:.1}" y2="{:.1}" stroke="red" stroke-dasharray="3,3" stroke-width="1"/>"#,
                y0 + panel_h
            );
        }
    }
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="{:.0}">position in the dialogue (red: a turn starts); colour: attention mass on the system message (scale max {max:.3})</text>"#,
        height - 6.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_one_cell_per_layer_and_position_and_a_line_per_turn() {
        let a = vec![vec![0.0, 0.5, 1.0], vec![0.2, 0.2, 0.2]];
        let b = vec![vec![1.0, 1.0, 1.0], vec![0.0, 0.0, 0.0]];
        let svg = attention_heatmap_svg("t <x>", &[("before", &a), ("after", &b)], &[0, 2], 0);
        assert_eq!(svg.matches("<rect x=").count(), 12);
        assert_eq!(svg.matches("<line").count(), 4);
        assert!(svg.contains("rgb(8,48,107)") && svg.contains("rgb(255,255,255)"));
        assert!(svg.contains("t &lt;x&gt;"));
    }
}
