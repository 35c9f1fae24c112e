//! Clinic-wide results (SPEC §1 step 6: "clinic-wide results by condition
//! and protocol"): responder rates (IMMPACT ≥ 30 % and ≥ 50 %) and how long
//! relief lasts (Kaplan–Meier with 95 % bands and the number at risk), by
//! condition and by protocol, for the patients whose first infusion falls
//! in a chosen period; every table also as CSV. The store gathers the
//! courses, respite-clinical judges them (docs/outcomes.md, "Clinic-wide").

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::Timestamp;
use respite_clinical::outcomes::{
    summarise_clinic, BaselineSettings, ClinicResults, GroupResults, KaplanMeierCurve,
    SurvivalInterval,
};
use respite_store::ResultsPeriod;
use serde::Deserialize;

use super::{render, Nav, StaffPage};
use crate::charts::{Axis, Chart, Layer};
use crate::words::results as words;
use crate::{AppError, AppState};

/// The days at which the tables beside the durability charts read the
/// curve, and the number at risk is printed under them: the follow-up
/// points of the questionnaire schedule (1, 7, 14, 28 days after a series,
/// then monthly; issue 13 §2) up to a year.
pub const CHECKPOINT_DAYS: [u32; 9] = [0, 7, 14, 28, 60, 90, 120, 180, 365];

/// The period: first infusion from `from` to `to`, both clinic dates,
/// inclusive; either may be blank.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default)]
pub struct PeriodQuery {
    pub from: String,
    pub to: String,
}

/// `?table=` of the CSV export, with the period.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(default)]
pub struct ExportQuery {
    pub table: String,
    pub from: String,
    pub to: String,
}

/// The tables that can be exported, as `?table=` names them.
pub const TABLES: [&str; 4] = [
    "responders-by-condition",
    "responders-by-protocol",
    "durability-by-condition",
    "durability-by-protocol",
];

/// One row of a responder table.
pub struct ResponderRow {
    pub group: String,
    pub patients: usize,
    pub assessed: usize,
    pub responders_30: String,
    pub responders_50: String,
    pub not_assessed: String,
    pub small: bool,
}

/// One group's durability: its summary and the curve read at the
/// checkpoints.
pub struct DurabilityGroup {
    pub id: String,
    pub group: String,
    pub summary: String,
    pub small: bool,
    /// The curve with its band, drawn by the shared chart module (SVG).
    pub chart: String,
    /// The number at risk at the checkpoints, printed under the chart.
    pub at_risk_line: String,
    pub rows: Vec<CheckpointRow>,
}

pub struct CheckpointRow {
    pub day: u32,
    pub at_risk: usize,
    pub still_relieved: String,
    pub band: String,
    pub returned: usize,
    pub censored: usize,
}

#[derive(Template)]
#[template(path = "results.html")]
struct ResultsPage {
    nav: Nav,
    from: String,
    to: String,
    /// The query string of the period, for the CSV links ("" or "&from=…").
    period_query: String,
    period: String,
    overall: String,
    by_condition: Vec<ResponderRow>,
    by_protocol: Vec<ResponderRow>,
    durability_by_condition: Vec<DurabilityGroup>,
    durability_by_protocol: Vec<DurabilityGroup>,
    too_few: &'static str,
    band_undefined: &'static str,
}

/// `GET /staff/results`.
pub async fn results_page(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let period = parse_period(&page, &query.from, &query.to)?;
    let results = load(&state, period, page.now).await?;
    let by_condition = results
        .by_condition
        .iter()
        .map(|(g, r)| responder_row(words::condition_group(*g), r))
        .collect();
    let by_protocol = results
        .by_protocol
        .iter()
        .map(|(p, r)| responder_row(p, r))
        .collect();
    let durability_by_condition = results
        .by_condition
        .iter()
        .map(|(g, r)| {
            durability_group(
                format!("condition-{}", words::condition_group_code(*g)),
                words::condition_group(*g),
                r,
            )
        })
        .collect();
    let durability_by_protocol = results
        .by_protocol
        .iter()
        .enumerate()
        .map(|(i, (p, r))| durability_group(format!("protocol-{}", i + 1), p, r))
        .collect();
    render(&ResultsPage {
        nav: page.nav(),
        period_query: period_query(&query.from, &query.to),
        period: period_words(&query.from, &query.to),
        overall: overall_words(&results.all),
        from: query.from,
        to: query.to,
        by_condition,
        by_protocol,
        durability_by_condition,
        durability_by_protocol,
        too_few: words::TOO_FEW,
        band_undefined: words::BAND_UNDEFINED,
    })
}

/// `GET /staff/results.csv?table=…`: the table behind a chart or a rate
/// table, with the page's period. Audited as an export by the route.
pub async fn export(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let table = TABLES
        .iter()
        .find(|t| **t == query.table)
        .ok_or_else(|| AppError::BadRequest {
            field: "table",
            message: format!("must be one of {}", TABLES.join(", ")),
        })?;
    let period = parse_period(&page, &query.from, &query.to)?;
    let results = load(&state, period, page.now).await?;
    let csv = match *table {
        "responders-by-condition" => responders_csv(
            "condition",
            results
                .by_condition
                .iter()
                .map(|(g, r)| (words::condition_group_code(*g).to_owned(), r)),
        ),
        "responders-by-protocol" => responders_csv(
            "protocol",
            results.by_protocol.iter().map(|(p, r)| (p.clone(), r)),
        ),
        "durability-by-condition" => durability_csv(
            "condition",
            results
                .by_condition
                .iter()
                .map(|(g, r)| (words::condition_group_code(*g).to_owned(), r)),
        ),
        _ => durability_csv(
            "protocol",
            results.by_protocol.iter().map(|(p, r)| (p.clone(), r)),
        ),
    };
    let name = format!("clinic-results-{table}-{}.csv", page.today());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// The page data: the store's course summaries (refreshed where a write
/// marked them; each judged by respite-clinical) summarised by
/// respite-clinical. The benchmark (bench/outcomes) times exactly these two
/// calls.
pub async fn load(
    state: &AppState,
    period: ResultsPeriod,
    now: Timestamp,
) -> Result<ClinicResults, AppError> {
    let settings = BaselineSettings::default();
    let courses = state.store.assessed_courses(period, &settings, now).await?;
    Ok(summarise_clinic(&courses))
}

/// The period from the form's dates (clinic time zone; `to` inclusive).
fn parse_period(page: &StaffPage, from: &str, to: &str) -> Result<ResultsPeriod, AppError> {
    let from_date = parse_date("from", from)?;
    let to_date = parse_date("to", to)?;
    if let (Some(f), Some(t)) = (from_date, to_date) {
        if t < f {
            return Err(AppError::BadRequest {
                field: "to",
                message: "must be on or after the first date".into(),
            });
        }
    }
    let start = |date: Date| -> Result<Timestamp, AppError> {
        date.to_zoned(page.zone.clone())
            .map(|z| z.timestamp())
            .map_err(|_| AppError::BadRequest {
                field: "from",
                message: "must be a date the clinic's calendar can hold".into(),
            })
    };
    let until = match to_date {
        Some(t) => Some(start(t.tomorrow().map_err(|_| AppError::BadRequest {
            field: "to",
            message: "must be a date before 9999-12-31".into(),
        })?)?),
        None => None,
    };
    Ok(ResultsPeriod {
        from: from_date.map(start).transpose()?,
        until,
    })
}

fn parse_date(field: &'static str, text: &str) -> Result<Option<Date>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<Date>()
        .map(Some)
        .map_err(|_| AppError::BadRequest {
            field,
            message: "must be a date written YYYY-MM-DD, or blank".into(),
        })
}

fn period_query(from: &str, to: &str) -> String {
    let mut query = String::new();
    for (name, value) in [("from", from.trim()), ("to", to.trim())] {
        // A date is digits and dashes once parsed: nothing to escape.
        if !value.is_empty() {
            query.push_str(&format!("&{name}={value}"));
        }
    }
    query
}

fn period_words(from: &str, to: &str) -> String {
    match (from.trim(), to.trim()) {
        ("", "") => "Patients with a first infusion at any time".to_owned(),
        (f, "") => format!("Patients with a first infusion on or after {f}"),
        ("", t) => format!("Patients with a first infusion on or before {t}"),
        (f, t) => format!("Patients with a first infusion from {f} to {t}"),
    }
}

fn overall_words(all: &GroupResults) -> String {
    if all.patients == 0 {
        return "No patient had a first infusion in this period.".to_owned();
    }
    format!(
        "{} patients treated; {} assessed (a pain score before the first infusion and one after \
         the series). At least 30 % less pain: {}. At least 50 % less: {}.",
        all.patients,
        all.assessed,
        words::rate(all.responders_30, all.assessed),
        words::rate(all.responders_50, all.assessed),
    )
}

fn responder_row(group: &str, r: &GroupResults) -> ResponderRow {
    ResponderRow {
        group: group.to_owned(),
        patients: r.patients,
        assessed: r.assessed,
        responders_30: words::rate(r.responders_30, r.assessed),
        responders_50: words::rate(r.responders_50, r.assessed),
        not_assessed: words::not_assessed(r),
        small: r.is_small(),
    }
}

fn durability_group(id: String, group: &str, r: &GroupResults) -> DurabilityGroup {
    let d = &r.durability;
    let summary = format!(
        "{} responders followed: {} with pain back, {} still relieved at their last report; {}.",
        d.responders,
        d.returned,
        d.censored,
        words::median(d.median_days, d.responders)
    );
    let band = d.curve.confidence_band_95();
    let last = d.curve.steps.last().map_or(0, |s| s.time);
    let rows: Vec<CheckpointRow> = CHECKPOINT_DAYS
        .iter()
        .filter(|&&day| day == 0 || day <= last)
        .map(|&day| {
            let (survival, interval) = read_curve(&d.curve, &band, day);
            let (returned, censored) = d
                .curve
                .steps
                .iter()
                .take_while(|s| s.time <= day)
                .fold((0, 0), |(e, c), s| (e + s.events, c + s.censored));
            CheckpointRow {
                day,
                at_risk: d.curve.at_risk_at(day),
                still_relieved: words::still_relieved(survival),
                band: words::band(interval),
                returned,
                censored,
            }
        })
        .collect();
    let at_risk_line =
        words::at_risk_line(&rows.iter().map(|r| (r.day, r.at_risk)).collect::<Vec<_>>());
    DurabilityGroup {
        chart: durability_chart(&id, group, &summary, &d.curve, &band),
        at_risk_line,
        id,
        group: group.to_owned(),
        summary,
        small: r.is_small() || d.responders < respite_clinical::outcomes::SMALL_GROUP_BELOW,
        rows,
    }
}

/// The Kaplan–Meier curve of a group as a step line with its 95 % band
/// shaded; where the band is undefined (S = 1 before the first return of
/// pain, S = 0 at the end) it closes on the curve.
fn durability_chart(
    id: &str,
    group: &str,
    summary: &str,
    curve: &KaplanMeierCurve,
    band: &[Option<SurvivalInterval>],
) -> String {
    let last = curve.steps.last().map_or(0, |s| s.time);
    let x = Axis::linear(words::CHART_X_LABEL, 0.0, f64::from(last.max(7)), 6, |v| {
        format!("{v:.0}")
    });
    let y = Axis::with_ticks(
        words::CHART_Y_LABEL,
        0.0,
        1.0,
        [0.0, 0.25, 0.5, 0.75, 1.0]
            .into_iter()
            .map(|v| (v, words::percent(v)))
            .collect(),
    );
    let mut points = vec![(0.0, 1.0)];
    let mut shaded = vec![(0.0, 1.0, 1.0)];
    for (step, interval) in curve.steps.iter().zip(band) {
        let t = f64::from(step.time);
        points.push((t, step.survival));
        let (low, high) = interval.map_or((step.survival, step.survival), |i| (i.lower, i.upper));
        shaded.push((t, low, high));
    }
    Chart::new(format!("chart-{id}"), words::chart_title(group), x, y)
        .class("km-chart")
        // Narrower than the default: on a phone the SVG scales down less,
        // so its labels stay readable (and two fit side by side on a laptop).
        .size(480.0, 280.0)
        .description(summary)
        .layer(Layer::Reference {
            y: 0.5,
            class: "reference".into(),
            label: words::MEDIAN_LINE.into(),
        })
        .layer(Layer::Step {
            points,
            band: shaded,
            class: "km".into(),
            label: words::CURVE_LABEL.into(),
        })
        .svg()
}

/// The curve and its band at `day`: the last step at or before it (a step
/// function), else 1 with no band.
fn read_curve(
    curve: &KaplanMeierCurve,
    band: &[Option<SurvivalInterval>],
    day: u32,
) -> (f64, Option<SurvivalInterval>) {
    curve
        .steps
        .iter()
        .zip(band)
        .take_while(|(s, _)| s.time <= day)
        .last()
        .map_or((1.0, None), |(s, b)| (s.survival, *b))
}

fn responders_csv<'a>(
    kind: &str,
    groups: impl Iterator<Item = (String, &'a GroupResults)>,
) -> String {
    let mut csv = format!(
        "{kind},patients,no_baseline,awaiting_report,assessed,responders_30,rate_30,responders_50,rate_50,too_few_to_read\r\n"
    );
    for (name, r) in groups {
        let share = |rate: Option<f64>| rate.map(|x| format!("{x:.6}")).unwrap_or_default();
        let fields = [
            name,
            r.patients.to_string(),
            r.no_baseline.to_string(),
            r.awaiting_report.to_string(),
            r.assessed.to_string(),
            r.responders_30.to_string(),
            share(r.rate_30()),
            r.responders_50.to_string(),
            share(r.rate_50()),
            r.is_small().to_string(),
        ];
        push_line(&mut csv, &fields);
    }
    csv
}

fn durability_csv<'a>(
    kind: &str,
    groups: impl Iterator<Item = (String, &'a GroupResults)>,
) -> String {
    let mut csv =
        format!("{kind},day,at_risk,returned,censored,still_relieved,lower_95,upper_95\r\n");
    for (name, r) in groups {
        let curve = &r.durability.curve;
        for (step, interval) in curve.steps.iter().zip(curve.confidence_band_95()) {
            let fields = [
                name.clone(),
                step.time.to_string(),
                step.at_risk.to_string(),
                step.events.to_string(),
                step.censored.to_string(),
                format!("{:.6}", step.survival),
                interval
                    .map(|i| format!("{:.6}", i.lower))
                    .unwrap_or_default(),
                interval
                    .map(|i| format!("{:.6}", i.upper))
                    .unwrap_or_default(),
            ];
            push_line(&mut csv, &fields);
        }
    }
    csv
}

fn push_line(csv: &mut String, fields: &[String]) {
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    csv.push_str(&line.join(","));
    csv.push_str("\r\n");
}

/// One CSV field (RFC 4180), guarded against spreadsheet formulas (OWASP,
/// CSV injection): a protocol name is clinic-entered text.
fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}
