//! Charts drawn by the server as inline SVG: no chart library in the
//! browser and no JavaScript needed to see them (SPEC §1 steps 5–6). The one
//! home for drawing: a page builds a [`Chart`] from its data (already in
//! words: the labels are what people read) and puts [`Chart::svg`] in its
//! template with `|safe`. Every chart carries a `<title>` and a `<desc>` and
//! its page shows the same numbers in a table beside it, for screen readers
//! and for copying.
//!
//! Layers are drawn in order: bands first, then reference lines, markers,
//! step curves and lines. Colours come from the stylesheet through the
//! classes given (`svg.chart .<class>`), so a page chooses a look by name.

use std::fmt::Write;

/// One axis: its range, its ticks (value, label) and its label.
#[derive(Debug, Clone)]
pub struct Axis {
    pub label: String,
    pub min: f64,
    pub max: f64,
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// A linear axis from `min` to `max` (widened to round numbers) with
    /// about `count` ticks, each labelled by `label_of`.
    pub fn linear(
        label: impl Into<String>,
        min: f64,
        max: f64,
        count: usize,
        label_of: impl Fn(f64) -> String,
    ) -> Axis {
        let (min, max) = if max > min {
            (min, max)
        } else {
            (min, min + 1.0)
        };
        let step = nice_step((max - min) / count.max(1) as f64);
        let low = (min / step).floor() * step;
        let high = (max / step).ceil() * step;
        let mut ticks = Vec::new();
        let mut value = low;
        while value <= high + step * 1e-9 {
            // -0.0 prints as "-0".
            let clean = if value.abs() < step * 1e-9 {
                0.0
            } else {
                value
            };
            ticks.push((clean, label_of(clean)));
            value += step;
        }
        Axis {
            label: label.into(),
            min: low,
            max: high,
            ticks,
        }
    }

    /// An axis with ticks the caller chose (e.g. dates), over `min..=max`.
    pub fn with_ticks(
        label: impl Into<String>,
        min: f64,
        max: f64,
        ticks: Vec<(f64, String)>,
    ) -> Axis {
        let max = if max > min { max } else { min + 1.0 };
        Axis {
            label: label.into(),
            min,
            max,
            ticks,
        }
    }
}

/// A round step (1, 2, 2.5 or 5 × 10ⁿ) at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// What a chart draws.
#[derive(Debug, Clone)]
pub enum Layer {
    /// A horizontal band between two y values (e.g. a concentration band).
    Band {
        low: f64,
        high: f64,
        class: String,
        label: String,
    },
    /// A horizontal reference line with its label at the right end (e.g. a
    /// baseline, a 30 % reduction).
    Reference {
        y: f64,
        class: String,
        label: String,
    },
    /// A vertical marker at `x` (e.g. an infusion), labelled on hover and
    /// in the legend.
    Marker {
        x: f64,
        class: String,
        label: String,
    },
    /// A line through points, with a dot at each when `dots` (for sparse
    /// measurements, so a single point still shows).
    Line {
        points: Vec<(f64, f64)>,
        class: String,
        label: String,
        dots: bool,
    },
    /// A step function (each value holds until the next x), with an optional
    /// shaded band (x, low, high) stepping the same way: a Kaplan–Meier
    /// curve and its confidence band.
    Step {
        points: Vec<(f64, f64)>,
        band: Vec<(f64, f64, f64)>,
        class: String,
        label: String,
    },
}

impl Layer {
    fn label(&self) -> (&str, &str) {
        match self {
            Layer::Band { class, label, .. }
            | Layer::Reference { class, label, .. }
            | Layer::Marker { class, label, .. }
            | Layer::Line { class, label, .. }
            | Layer::Step { class, label, .. } => (class, label),
        }
    }

    fn order(&self) -> u8 {
        match self {
            Layer::Band { .. } => 0,
            Layer::Reference { .. } => 1,
            Layer::Marker { .. } => 2,
            Layer::Step { .. } => 3,
            Layer::Line { .. } => 4,
        }
    }
}

/// A chart: a title (what it shows, read first by a screen reader), a
/// description (its gist in a sentence), two axes and the layers.
#[derive(Debug, Clone)]
pub struct Chart {
    /// A unique id on the page (the SVG's title and desc are named by it).
    pub id: String,
    /// Extra class on the `<svg>` (e.g. `pk-chart`), after `chart`.
    pub class: String,
    pub title: String,
    pub description: String,
    pub x: Axis,
    pub y: Axis,
    pub layers: Vec<Layer>,
    pub width: f64,
    pub height: f64,
    /// Whether the chart names its labelled layers in a legend above the
    /// plot (off when the page gives its own key).
    pub legend: bool,
}

const LEFT: f64 = 52.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 40.0;
const LEGEND_ROW: f64 = 18.0;
/// At most this many points per line: more cannot be seen at this size.
const MAX_POINTS: usize = 400;

impl Chart {
    pub fn new(id: impl Into<String>, title: impl Into<String>, x: Axis, y: Axis) -> Chart {
        Chart {
            id: id.into(),
            class: String::new(),
            title: title.into(),
            description: String::new(),
            x,
            y,
            layers: Vec::new(),
            width: 640.0,
            height: 300.0,
            legend: true,
        }
    }

    pub fn without_legend(mut self) -> Chart {
        self.legend = false;
        self
    }

    pub fn class(mut self, class: impl Into<String>) -> Chart {
        self.class = class.into();
        self
    }

    pub fn description(mut self, description: impl Into<String>) -> Chart {
        self.description = description.into();
        self
    }

    pub fn size(mut self, width: f64, height: f64) -> Chart {
        self.width = width;
        self.height = height;
        self
    }

    pub fn layer(mut self, layer: Layer) -> Chart {
        self.layers.push(layer);
        self
    }

    /// The chart as an inline `<svg>` element.
    pub fn svg(&self) -> String {
        // The legend names each labelled layer once (markers of one class
        // share a label), in rows above the plot.
        let mut legend: Vec<(&str, &str, bool)> = Vec::new();
        for layer in self.layers.iter().filter(|_| self.legend) {
            let (class, label) = layer.label();
            let area = matches!(layer, Layer::Band { .. });
            if !label.is_empty() && !legend.iter().any(|(c, l, _)| *c == class && *l == label) {
                legend.push((class, label, area));
            }
        }
        let per_row = ((self.width - LEFT - RIGHT) / 190.0).floor().max(1.0) as usize;
        let legend_rows = legend.len().div_ceil(per_row);
        let top = TOP + legend_rows as f64 * LEGEND_ROW;
        let (w, h) = (self.width, self.height + legend_rows as f64 * LEGEND_ROW);
        let plot_w = w - LEFT - RIGHT;
        let plot_h = h - top - BOTTOM;
        let (x0, x1, y0, y1) = (self.x.min, self.x.max, self.y.min, self.y.max);
        let x = |v: f64| LEFT + ((v.clamp(x0, x1) - x0) / (x1 - x0)) * plot_w;
        let y = |v: f64| top + (1.0 - (v.clamp(y0, y1) - y0) / (y1 - y0)) * plot_h;

        let id = escape(&self.id);
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
             class=\"chart {}\" xmlns=\"http://www.w3.org/2000/svg\">\
             <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
            escape(&self.class),
            escape(&self.title),
            escape(&self.description),
        );

        for (i, (class, label, area)) in legend.iter().enumerate() {
            let lx = LEFT + (i % per_row) as f64 * 190.0;
            let ly = TOP + (i / per_row) as f64 * LEGEND_ROW + 8.0;
            // A band is keyed by a swatch of its fill, a line by its stroke.
            let key = if *area {
                format!(
                    "<rect x=\"{lx}\" y=\"{}\" width=\"18\" height=\"10\" class=\"band {}\"/>",
                    ly - 5.0,
                    escape(class)
                )
            } else {
                format!(
                    "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" class=\"{}\"/>",
                    lx + 18.0,
                    escape(class)
                )
            };
            let _ = write!(
                out,
                "<g class=\"legend\">{key}<text x=\"{}\" y=\"{}\" class=\"tick\">{}</text></g>",
                lx + 24.0,
                ly + 4.0,
                escape(label)
            );
        }

        // Grid and ticks.
        for (value, label) in &self.y.ticks {
            let ty = y(*value);
            let _ = write!(
                out,
                "<line x1=\"{LEFT}\" y1=\"{ty:.1}\" x2=\"{:.1}\" y2=\"{ty:.1}\" class=\"grid\"/>\
                 <text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>",
                LEFT + plot_w,
                LEFT - 6.0,
                ty + 4.0,
                escape(label)
            );
        }
        for (value, label) in &self.x.ticks {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
                x(*value),
                top + plot_h + 16.0,
                escape(label)
            );
        }

        let mut layers: Vec<&Layer> = self.layers.iter().collect();
        layers.sort_by_key(|layer| layer.order());
        for layer in layers {
            match layer {
                Layer::Band {
                    low,
                    high,
                    class,
                    label,
                } => {
                    if *low >= y1 || *high <= y0 {
                        continue;
                    }
                    let (top_y, bottom_y) = (y(*high), y(*low));
                    let _ = write!(
                        out,
                        "<rect x=\"{LEFT}\" y=\"{top_y:.1}\" width=\"{plot_w:.1}\" height=\"{:.1}\" \
                         class=\"band {}\"><title>{}</title></rect>",
                        (bottom_y - top_y).max(0.0),
                        escape(class),
                        escape(label)
                    );
                }
                Layer::Reference {
                    y: value, class, ..
                } => {
                    if *value < y0 || *value > y1 {
                        continue;
                    }
                    let ry = y(*value);
                    let _ = write!(
                        out,
                        "<line x1=\"{LEFT}\" y1=\"{ry:.1}\" x2=\"{:.1}\" y2=\"{ry:.1}\" class=\"reference {}\"/>",
                        LEFT + plot_w,
                        escape(class)
                    );
                }
                Layer::Marker {
                    x: value,
                    class,
                    label,
                } => {
                    if *value < x0 || *value > x1 {
                        continue;
                    }
                    let mx = x(*value);
                    let _ = write!(
                        out,
                        "<line x1=\"{mx:.1}\" y1=\"{top:.1}\" x2=\"{mx:.1}\" y2=\"{:.1}\" class=\"marker {}\">\
                         <title>{}</title></line>",
                        top + plot_h,
                        escape(class),
                        escape(label)
                    );
                }
                Layer::Step {
                    points,
                    band,
                    class,
                    ..
                } => {
                    if !band.is_empty() {
                        let mut upper = Vec::new();
                        let mut lower = Vec::new();
                        for (i, (bx, low, high)) in band.iter().enumerate() {
                            let next = band.get(i + 1).map_or(x1, |n| n.0);
                            upper.push(format!("{:.1},{:.1}", x(*bx), y(*high)));
                            upper.push(format!("{:.1},{:.1}", x(next), y(*high)));
                            lower.push(format!("{:.1},{:.1}", x(*bx), y(*low)));
                            lower.push(format!("{:.1},{:.1}", x(next), y(*low)));
                        }
                        lower.reverse();
                        upper.extend(lower);
                        let _ = write!(
                            out,
                            "<polygon class=\"confidence {}\" points=\"{}\"/>",
                            escape(class),
                            upper.join(" ")
                        );
                    }
                    let mut path = Vec::new();
                    for (i, (px, py)) in points.iter().enumerate() {
                        let next = points.get(i + 1).map_or(x1, |n| n.0);
                        path.push(format!("{:.1},{:.1}", x(*px), y(*py)));
                        path.push(format!("{:.1},{:.1}", x(next), y(*py)));
                    }
                    let _ = write!(
                        out,
                        "<polyline class=\"{}\" fill=\"none\" points=\"{}\"/>",
                        escape(class),
                        path.join(" ")
                    );
                }
                Layer::Line {
                    points,
                    class,
                    dots,
                    ..
                } => {
                    let stride = (points.len() / MAX_POINTS).max(1);
                    let coords: Vec<String> = points
                        .iter()
                        .step_by(stride)
                        .map(|(px, py)| format!("{:.1},{:.1}", x(*px), y(*py)))
                        .collect();
                    let _ = write!(
                        out,
                        "<polyline class=\"{}\" fill=\"none\" points=\"{}\"/>",
                        escape(class),
                        coords.join(" ")
                    );
                    if *dots {
                        for (px, py) in points.iter().step_by(stride) {
                            let _ = write!(
                                out,
                                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" class=\"dot {}\"/>",
                                x(*px),
                                y(*py),
                                escape(class)
                            );
                        }
                    }
                }
            }
        }

        // Axes on top, then their labels.
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"axis\"/>\
             <line x1=\"{LEFT}\" y1=\"{top:.1}\" x2=\"{LEFT}\" y2=\"{:.1}\" class=\"axis\"/>",
            top + plot_h,
            LEFT + plot_w,
            top + plot_h,
            top + plot_h,
        );
        let mid_y = top + plot_h / 2.0;
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>\
             <text x=\"14\" y=\"{mid_y:.1}\" class=\"tick\" transform=\"rotate(-90 14 {mid_y:.1})\" \
             text-anchor=\"middle\">{}</text></svg>",
            LEFT + plot_w / 2.0,
            h - 6.0,
            escape(&self.x.label),
            escape(&self.y.label),
        );
        out
    }
}

/// Text for SVG: the five characters XML reserves, escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(v: f64) -> String {
        format!("{v}")
    }

    #[test]
    fn a_linear_axis_widens_to_round_ticks() {
        let axis = Axis::linear("ng/mL", 0.0, 437.0, 5, plain);
        assert_eq!(axis.min, 0.0);
        assert_eq!(axis.max, 500.0);
        let labels: Vec<&str> = axis.ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["0", "100", "200", "300", "400", "500"]);
        let tenths = Axis::linear("score", 0.0, 1.0, 4, plain);
        assert_eq!(tenths.ticks.len(), 5, "0, 0.25, 0.5, 0.75, 1");
    }

    #[test]
    fn an_empty_range_still_draws() {
        let axis = Axis::linear("days", 3.0, 3.0, 5, plain);
        assert!(axis.max > axis.min);
    }

    #[test]
    fn text_is_escaped_and_the_chart_is_named() {
        let chart = Chart::new(
            "c1",
            "Pain <NRS> & sleep",
            Axis::linear("days", 0.0, 10.0, 5, plain),
            Axis::linear("score", 0.0, 10.0, 5, plain),
        )
        .description("Falls from 8 to 3")
        .layer(Layer::Line {
            points: vec![(0.0, 8.0), (10.0, 3.0)],
            class: "pain".into(),
            label: "Pain \"now\"".into(),
            dots: true,
        });
        let svg = chart.svg();
        assert!(svg.contains("<title id=\"c1-title\">Pain &lt;NRS&gt; &amp; sleep</title>"));
        assert!(svg.contains("aria-labelledby=\"c1-title c1-desc\""));
        assert!(svg.contains("Pain &quot;now&quot;"));
        assert_eq!(svg.matches("<circle").count(), 2);
    }

    #[test]
    fn a_step_curve_holds_each_value_until_the_next_point() {
        let chart = Chart::new(
            "km",
            "Relief lasting",
            Axis::with_ticks("days", 0.0, 100.0, vec![]),
            Axis::with_ticks("share", 0.0, 1.0, vec![]),
        )
        .size(152.0, 152.0)
        .layer(Layer::Step {
            points: vec![(0.0, 1.0), (50.0, 0.5)],
            band: vec![(0.0, 1.0, 1.0), (50.0, 0.3, 0.7)],
            class: "km".into(),
            label: String::new(),
        });
        let svg = chart.svg();
        // Plot 84 × 100 px from (52, 12): x 0 → 52, 50 → 94, 100 → 136.
        assert!(
            svg.contains("points=\"52.0,12.0 94.0,12.0 94.0,62.0 136.0,62.0\""),
            "{svg}"
        );
        assert!(svg.contains("<polygon class=\"confidence km\""));
    }
}
