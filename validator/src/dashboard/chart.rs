//! Line charts as inline SVG, drawn on the server: a pure layout from points to coordinates,
//! then markup. No script is needed to see them.

use maud::{Markup, html};

/// Width of the drawing, in SVG units (it scales to its container).
const WIDTH: f64 = 720.0;
/// Height of the drawing.
const HEIGHT: f64 = 240.0;
/// Room for the y labels on the left.
const LEFT: f64 = 64.0;
/// Margin on the right.
const RIGHT: f64 = 14.0;
/// Margin at the top.
const TOP: f64 = 12.0;
/// Room for the x labels at the bottom.
const BOTTOM: f64 = 26.0;
/// Horizontal grid lines, both edges included.
const GRID: usize = 5;

/// One line: its name (for the legend and tooltips), a CSS class and `(window, value)` points.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// Shown in the legend and in each point's tooltip.
    pub name: &'a str,
    /// The CSS class that colours it.
    pub class: &'a str,
    /// Points in any order; non-finite values are left out.
    pub points: Vec<(u64, f64)>,
}

/// A point placed on the drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    /// The window.
    pub window: u64,
    /// The value.
    pub value: f64,
    /// Horizontal position.
    pub x: f64,
    /// Vertical position (down from the top).
    pub y: f64,
}

/// Where everything goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Per series, its finite points by window.
    pub lines: Vec<Vec<Placed>>,
    /// Windows at the left and right edges.
    pub windows: (u64, u64),
    /// Values at the bottom and top edges.
    pub values: (f64, f64),
}

impl Layout {
    /// Places `series` on the drawing; `None` when no series has a finite point.
    pub fn of(series: &[Series<'_>]) -> Option<Layout> {
        let finite = |s: &Series<'_>| {
            let mut p: Vec<(u64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.1.is_finite())
                .collect();
            p.sort_by_key(|p| p.0);
            p
        };
        let clean: Vec<Vec<(u64, f64)>> = series.iter().map(finite).collect();
        let all = || clean.iter().flatten();
        let w0 = all().map(|p| p.0).min()?;
        let w1 = all().map(|p| p.0).max()?;
        let lo = all().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = all().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        // 5 % headroom; a flat line gets a band around it.
        let pad = if hi > lo {
            (hi - lo) * 0.05
        } else {
            (hi.abs() * 0.05).max(1e-6)
        };
        let (lo, hi) = (lo - pad, hi + pad);
        let x = |w: u64| {
            if w1 == w0 {
                LEFT + (WIDTH - LEFT - RIGHT) / 2.0
            } else {
                LEFT + (w - w0) as f64 / (w1 - w0) as f64 * (WIDTH - LEFT - RIGHT)
            }
        };
        let y = |v: f64| TOP + (hi - v) / (hi - lo) * (HEIGHT - TOP - BOTTOM);
        let lines = clean
            .iter()
            .map(|line| {
                line.iter()
                    .map(|&(window, value)| Placed {
                        window,
                        value,
                        x: x(window),
                        y: y(value),
                    })
                    .collect()
            })
            .collect();
        Some(Layout {
            lines,
            windows: (w0, w1),
            values: (lo, hi),
        })
    }
}

/// A chart of `series` titled `label`, values printed with `fmt`; a short note when there is
/// nothing to draw yet.
pub fn line_chart(label: &str, series: &[Series<'_>], fmt: fn(f64) -> String) -> Markup {
    let Some(layout) = Layout::of(series) else {
        return html! { p.empty { "No " (label) " yet." } };
    };
    let count: usize = layout.lines.iter().map(Vec::len).sum();
    let (lo, hi) = layout.values;
    let view = format!("0 0 {WIDTH} {HEIGHT}");
    html! {
        figure.chart {
            svg viewBox=(view) role="img" aria-label=(label) data-points=(count)
                preserveAspectRatio="xMidYMid meet" {
                @for i in 0..GRID {
                    @let v = hi - (hi - lo) * i as f64 / (GRID - 1) as f64;
                    @let gy = TOP + (HEIGHT - TOP - BOTTOM) * i as f64 / (GRID - 1) as f64;
                    line.grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(r(gy)) y2=(r(gy)) {}
                    text.ylabel x=(LEFT - 6.0) y=(r(gy + 4.0)) text-anchor="end" { (fmt(v)) }
                }
                text.xlabel x=(LEFT) y=(HEIGHT - 6.0) text-anchor="start" { "window " (layout.windows.0) }
                @if layout.windows.1 != layout.windows.0 {
                    text.xlabel x=(WIDTH - RIGHT) y=(HEIGHT - 6.0) text-anchor="end" { "window " (layout.windows.1) }
                }
                @for (s, line) in series.iter().zip(&layout.lines) {
                    g class=(format!("series {}", s.class)) data-series=(s.name) {
                        @if line.len() > 1 {
                            polyline points=(polyline(line)) {}
                        }
                        @for p in line {
                            circle.pt cx=(r(p.x)) cy=(r(p.y)) r="3" data-window=(p.window) data-value=(p.value) {
                                title { (s.name) ", window " (p.window) ": " (fmt(p.value)) }
                            }
                        }
                    }
                }
            }
            @if series.len() > 1 {
                figcaption {
                    @for s in series {
                        span class=(format!("key {}", s.class)) { (s.name) }
                    }
                }
            }
        }
    }
}

/// A coordinate rounded to 0.1 unit: plenty on any screen, a third of the bytes.
fn r(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn polyline(line: &[Placed]) -> String {
    line.iter()
        .map(|p| format!("{},{}", r(p.x), r(p.y)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn series(points: Vec<(u64, f64)>) -> Vec<Series<'static>> {
        vec![Series {
            name: "loss",
            class: "a",
            points,
        }]
    }

    proptest! {
        /// Every finite point is placed inside the plot area, left to right by window, higher
        /// values higher up; the markup has one circle per placed point.
        #[test]
        fn points_land_inside_the_plot_in_order(
            points in prop::collection::vec(
                (0u64..10_000, prop_oneof![4 => -1e6f64..1e6, 1 => Just(f64::NAN), 1 => Just(f64::INFINITY)]),
                0..60,
            )
        ) {
            let s = series(points.clone());
            let finite = points.iter().filter(|p| p.1.is_finite()).count();
            let Some(layout) = Layout::of(&s) else {
                prop_assert_eq!(finite, 0);
                return Ok(());
            };
            let line = &layout.lines[0];
            prop_assert_eq!(line.len(), finite);
            for p in line {
                prop_assert!((LEFT..=WIDTH - RIGHT).contains(&p.x), "x {}", p.x);
                prop_assert!((TOP..=HEIGHT - BOTTOM).contains(&p.y), "y {}", p.y);
            }
            for (a, b) in line.iter().zip(line.iter().skip(1)) {
                prop_assert!(a.window <= b.window && a.x <= b.x);
            }
            for a in line {
                for b in line {
                    if a.value > b.value {
                        prop_assert!(a.y < b.y);
                    }
                }
            }
            let markup = line_chart("loss", &s, |v| format!("{v:.3}")).into_string();
            prop_assert_eq!(markup.matches("<circle").count(), finite);
            let count = format!("data-points=\"{finite}\"");
            prop_assert!(markup.contains(&count));
        }
    }

    #[test]
    fn nothing_to_draw_is_said_in_words() {
        let markup = line_chart("model loss", &series(vec![(1, f64::NAN)]), |v| {
            v.to_string()
        });
        assert_eq!(
            markup.into_string(),
            "<p class=\"empty\">No model loss yet.</p>"
        );
    }

    #[test]
    fn one_point_sits_in_the_middle_of_a_band() {
        let layout = Layout::of(&series(vec![(7, 2.5)])).unwrap();
        let p = layout.lines[0][0];
        assert_eq!(p.x, LEFT + (WIDTH - LEFT - RIGHT) / 2.0);
        assert!((p.y - (TOP + (HEIGHT - TOP - BOTTOM) / 2.0)).abs() < 1e-9);
        assert!(layout.values.0 < 2.5 && layout.values.1 > 2.5);
    }

    #[test]
    fn names_are_escaped() {
        let s = vec![Series {
            name: "<b>&",
            class: "a",
            points: vec![(1, 1.0), (2, 2.0)],
        }];
        let markup = line_chart("x", &s, |v| v.to_string()).into_string();
        assert!(!markup.contains("<b>"));
        assert!(markup.contains("&lt;b&gt;&amp;"));
    }
}
