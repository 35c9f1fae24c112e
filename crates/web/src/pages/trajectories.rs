//! One patient's outcomes over time (SPEC §1 step 6): for each score the
//! portal or a paper form produced, its trajectory with the infusions
//! marked, the baseline and the thresholds of the scale's published rule
//! (IMMPACT 30 % and 50 % for pain intensity), the change judged and the
//! durability of relief after each series; the same as a table and as CSV.
//! The patient reads their own in plain words on `/portal/progress`.
//!
//! Every verdict is respite-clinical's (`respite_clinical::outcomes`:
//! `baseline`, `change_rule`, `judge_change`, `infusion_series`,
//! `durability`); this module gathers the facts and shows them. The
//! words are `words::trajectories`'.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_clinical::instruments::{Instrument, ScaleDefinition};
use respite_clinical::outcomes::{
    baseline, change_rule, durability, infusion_series, judge_change, percent_change_from_baseline,
    thresholds, Baseline, BaselineSettings, ChangeRule, ChangeVerdict, Durability, InfusionSeries,
    OutcomeError, ScoreReport, SeriesSettings, Threshold,
};
use respite_store::{OutcomeScore, PatientOutcomes, PatientRecord};

use super::register::csv_field;
use super::{parse_id, render, Nav, PublicPage, StaffPage};
use crate::access::AuditedRecord;
use crate::charts::{Axis, Chart, Layer};
use crate::portal_auth::PortalSession;
use crate::words::trajectories as words;
use crate::{AppError, AppState};

// ---------------------------------------------------------------------------
// The analysis: facts gathered, verdicts from respite-clinical

/// One scale's scores over time and what respite-clinical makes of them.
pub struct Trajectory {
    pub instrument: Instrument,
    pub scale: &'static ScaleDefinition,
    /// Oldest first.
    pub points: Vec<OutcomeScore>,
    /// `None`: no infusion yet, so no baseline (it is taken before the
    /// first infusion).
    pub baseline: Option<Result<Baseline, OutcomeError>>,
    pub thresholds: Vec<Threshold>,
    /// The latest computed score.
    pub latest: Option<(Timestamp, f64)>,
    /// The latest score against the baseline, by the scale's rule.
    pub verdict: Option<Result<ChangeVerdict, OutcomeError>>,
    pub percent_change: Option<f64>,
    /// The lowest score since the first infusion (lower is better on every
    /// scale here), judged the same way: the best response so far.
    pub best: Option<(Timestamp, f64, Result<ChangeVerdict, OutcomeError>)>,
    /// Pain intensity only: relief after each series (outcomes.md).
    pub durability: Vec<(InfusionSeries, Result<Durability, OutcomeError>)>,
}

impl Trajectory {
    fn baseline_value(&self) -> Option<f64> {
        match &self.baseline {
            Some(Ok(b)) => Some(b.value),
            _ => None,
        }
    }

    /// The percent change of one score from the baseline, when both exist.
    fn change_of(&self, value: Option<f64>) -> Option<f64> {
        percent_change_from_baseline(self.baseline_value()?, value?).ok()
    }
}

/// A patient's trajectories, in the instruments' usual order.
pub struct Analysis {
    pub series: Vec<InfusionSeries>,
    pub infusions: Vec<Timestamp>,
    pub trajectories: Vec<Trajectory>,
}

/// Gathers each scale's points and asks respite-clinical for the baseline,
/// the verdict and durability.
pub fn analyse(outcomes: PatientOutcomes) -> Analysis {
    let infusions: Vec<Timestamp> = outcomes.infusions.iter().map(|i| i.started_at).collect();
    let series = infusion_series(&infusions, &SeriesSettings::default());
    let first_infusion = series.first().map(|s| s.first_session);
    let mut trajectories = Vec::new();
    for instrument in Instrument::ALL {
        for scale in instrument.definition().scales {
            let points: Vec<OutcomeScore> = outcomes
                .scores
                .iter()
                .filter(|s| s.record.instrument == instrument.id() && s.record.scale == scale.id)
                .cloned()
                .collect();
            if points.is_empty() {
                continue;
            }
            trajectories.push(trajectory(
                instrument,
                scale,
                points,
                first_infusion,
                &series,
            ));
        }
    }
    Analysis {
        series,
        infusions,
        trajectories,
    }
}

fn trajectory(
    instrument: Instrument,
    scale: &'static ScaleDefinition,
    points: Vec<OutcomeScore>,
    first_infusion: Option<Timestamp>,
    series: &[InfusionSeries],
) -> Trajectory {
    let rule = change_rule(instrument, scale.id);
    let reports: Vec<ScoreReport> = points
        .iter()
        .filter_map(|p| {
            p.record.value.map(|score| ScoreReport {
                at: p.record.effective_at,
                score,
            })
        })
        .collect();
    let baseline =
        first_infusion.map(|first| baseline(&reports, first, &BaselineSettings::default()));
    let base = match &baseline {
        Some(Ok(b)) => Some(b.value),
        _ => None,
    };
    let latest = reports
        .iter()
        .rfind(|r| first_infusion.is_some_and(|first| r.at >= first))
        .map(|r| (r.at, r.score));
    let verdict = base
        .zip(latest)
        .map(|(b, (_, current))| judge_change(rule, b, current));
    let percent_change = base
        .zip(latest)
        .and_then(|(b, (_, current))| percent_change_from_baseline(b, current).ok());
    let best = base.and_then(|b| {
        let lowest = reports
            .iter()
            .filter(|r| first_infusion.is_some_and(|first| r.at >= first))
            .min_by(|x, y| x.score.total_cmp(&y.score))?;
        Some((lowest.at, lowest.score, judge_change(rule, b, lowest.score)))
    });
    let durability = match (rule, base) {
        (ChangeRule::PainIntensity, Some(b)) => series
            .iter()
            .enumerate()
            .map(|(index, s)| {
                // Relief after this series is measured until the next one
                // begins (a new series is a new treatment).
                let next = series.get(index + 1).map(|n| n.first_session);
                let after: Vec<ScoreReport> = reports
                    .iter()
                    .filter(|r| next.is_none_or(|n| r.at < n))
                    .copied()
                    .collect();
                (*s, durability(b, s.last_session, &after))
            })
            .collect(),
        _ => Vec::new(),
    };
    Trajectory {
        instrument,
        scale,
        thresholds: base.map(|b| thresholds(rule, b)).unwrap_or_default(),
        points,
        baseline,
        latest,
        verdict,
        percent_change,
        best,
        durability,
    }
}

// ---------------------------------------------------------------------------
// The staff page

struct RowView {
    when: String,
    value: String,
    band: String,
    completeness: String,
    source: &'static str,
    safety: &'static str,
    safety_unknown: bool,
    change: String,
}

struct TrajectoryView {
    anchor: String,
    title: String,
    chart: String,
    status: &'static str,
    baseline: String,
    verdict: Option<String>,
    best: Option<String>,
    durability: Vec<String>,
    thresholds: Vec<String>,
    has_safety: bool,
    rows: Vec<RowView>,
}

struct InfusionView {
    when: String,
    protocol: String,
}

#[derive(Template)]
#[template(path = "trajectory.html")]
struct OutcomesPage {
    nav: Nav,
    tab: &'static str,
    patient: PatientRecord,
    trajectories: Vec<TrajectoryView>,
    infusions: Vec<InfusionView>,
    series: Vec<String>,
    can_enter_paper: bool,
}

async fn load(state: &AppState, id: &str) -> Result<(PatientRecord, PatientOutcomes), AppError> {
    let id = parse_id(id)?;
    let patient = state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    let outcomes = state.store.patient_outcomes(id).await?;
    Ok((patient, outcomes))
}

/// The patient's trajectories: a chart per score, the verdicts, the table.
pub async fn patient_outcomes(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (patient, outcomes) = load(&state, &id).await?;
    let protocols: Vec<(Timestamp, String)> = outcomes
        .infusions
        .iter()
        .map(|i| (i.started_at, i.protocol.clone()))
        .collect();
    let analysis = analyse(outcomes);
    let trajectories = analysis
        .trajectories
        .iter()
        .map(|t| trajectory_view(t, &analysis, &page.zone))
        .collect();
    render(&OutcomesPage {
        nav: page.nav(),
        tab: "outcomes",
        trajectories,
        infusions: protocols
            .into_iter()
            .map(|(at, protocol)| InfusionView {
                when: page.time(at),
                protocol,
            })
            .collect(),
        series: analysis
            .series
            .iter()
            .map(|s| words::series(s, &page.zone))
            .collect(),
        can_enter_paper: page.may(respite_domain::Permission::WriteClinicalRecords),
        patient,
    })
}

fn trajectory_view(t: &Trajectory, analysis: &Analysis, zone: &TimeZone) -> TrajectoryView {
    let rows = t
        .points
        .iter()
        .rev()
        .map(|p| {
            let band = p
                .record
                .band
                .as_deref()
                .and_then(|id| t.scale.bands.iter().find(|b| b.id == id))
                .map(|b| b.label.to_owned())
                .unwrap_or_default();
            RowView {
                when: super::context::clinic_time(p.record.effective_at, zone),
                value: words::score_value(p.record.value, t.scale),
                band,
                completeness: words::completeness(
                    p.record.value,
                    p.record.prorated,
                    &p.record.missing_items,
                    &p.record.rule,
                ),
                source: words::source(&p.source),
                safety: words::safety(p.safety_answer),
                safety_unknown: p.safety_answer == Some(None),
                change: t
                    .change_of(p.record.value)
                    .map(words::change_column)
                    .unwrap_or_default(),
            }
        })
        .collect();
    TrajectoryView {
        anchor: format!("{}-{}", t.instrument.id(), t.scale.id),
        title: words::scale_title(t.instrument, t.scale),
        chart: chart(t, analysis, zone, ChartFor::Staff),
        status: words::status_short(&t.verdict),
        baseline: words::baseline(&t.baseline, t.scale, zone),
        verdict: t.verdict.as_ref().map(|v| {
            let latest = t
                .latest
                .map(|(at, v)| {
                    format!(
                        "Latest {} ({}). ",
                        words::score_value(Some(v), t.scale),
                        words::date(at, zone)
                    )
                })
                .unwrap_or_default();
            format!("{latest}{}", words::verdict(v, t.percent_change))
        }),
        best: t.best.as_ref().map(|(at, value, verdict)| {
            format!(
                "{} ({}). {}",
                words::score_value(Some(*value), t.scale),
                words::date(*at, zone),
                words::verdict(verdict, t.change_of(Some(*value)))
            )
        }),
        durability: t
            .durability
            .iter()
            .map(|(s, d)| words::durability(s, d, zone))
            .collect(),
        thresholds: t.thresholds.iter().map(words::threshold).collect(),
        has_safety: t.points.iter().any(|p| p.safety_answer.is_some()),
        rows,
    }
}

/// The table behind the charts, as CSV: one row per score and one per
/// infusion, codes as stored (SPEC §1 step 6: the table behind every chart).
pub async fn patient_outcomes_csv(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (patient, outcomes) = load(&state, &id).await?;
    let infusions = outcomes.infusions.clone();
    let analysis = analyse(outcomes);
    let mut csv = String::from(
        "kind,time,instrument,scale,code_system,code,value,band,prorated,missing_items,rule,\
         source,phq9_item9,baseline,percent_change_from_baseline,protocol\r\n",
    );
    let iso = |at: Timestamp| {
        at.to_zoned(page.zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    };
    for t in &analysis.trajectories {
        for p in &t.points {
            let r = &p.record;
            let fields = [
                "score".to_owned(),
                iso(r.effective_at),
                r.instrument.clone(),
                r.scale.clone(),
                r.code_system.clone(),
                r.code.clone(),
                r.value.map(|v| v.to_string()).unwrap_or_default(),
                r.band.clone().unwrap_or_default(),
                r.prorated.to_string(),
                r.missing_items.clone(),
                r.rule.clone(),
                p.source.clone(),
                match p.safety_answer {
                    None => String::new(),
                    Some(None) => "unanswered".to_owned(),
                    Some(Some(v)) => v.to_string(),
                },
                t.baseline_value()
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                t.change_of(r.value)
                    .map(|c| format!("{c:.1}"))
                    .unwrap_or_default(),
                String::new(),
            ];
            push_csv_line(&mut csv, &fields);
        }
    }
    for i in &infusions {
        let mut fields: Vec<String> = vec![String::new(); 16];
        fields[0] = "infusion".to_owned();
        fields[1] = iso(i.started_at);
        fields[15] = i.protocol.clone();
        push_csv_line(&mut csv, &fields);
    }
    let name = format!("outcomes-{}-{}.csv", patient.mrn, page.today());
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

fn push_csv_line(csv: &mut String, fields: &[String]) {
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    csv.push_str(&line.join(","));
    csv.push_str("\r\n");
}

// ---------------------------------------------------------------------------
// The patient's own progress (portal)

struct ProgressView {
    heading: &'static str,
    sentence: String,
    chart: String,
    points: Vec<String>,
}

#[derive(Template)]
#[template(path = "trajectory_portal.html")]
struct ProgressPage {
    clinic: crate::words::public::ClinicFacts,
    topics: Vec<ProgressView>,
    first_infusion: Option<String>,
}

/// The patient's own progress in plain words, with a simple chart per
/// thing measured. Only the session's patient's data: the page takes no id.
pub async fn progress(
    State(state): State<AppState>,
    page: PublicPage,
    Extension(session): Extension<PortalSession>,
) -> Result<Response, AppError> {
    let patient_id = session.patient_id;
    let outcomes = state.store.patient_outcomes(patient_id).await?;
    let analysis = analyse(outcomes);
    let has_infusion = !analysis.series.is_empty();
    let topics = analysis
        .trajectories
        .iter()
        .filter_map(|t| {
            let topic = words::patient_topic(t.instrument, t.scale.id)?;
            Some(ProgressView {
                heading: topic.heading,
                sentence: words::patient_sentence(topic, t.percent_change, has_infusion),
                chart: chart(t, &analysis, &page.zone, ChartFor::Patient),
                points: t
                    .points
                    .iter()
                    .rev()
                    .take(6)
                    .map(|p| {
                        words::patient_point(
                            p.record.effective_at,
                            p.record.value,
                            t.scale,
                            &page.zone,
                        )
                    })
                    .collect(),
            })
        })
        .collect();
    let mut response = render(&ProgressPage {
        clinic: page.clinic.clone(),
        topics,
        first_infusion: analysis
            .series
            .first()
            .map(|s| words::date(s.first_session, &page.zone)),
    })?;
    response
        .extensions_mut()
        .insert(AuditedRecord(patient_id.to_string()));
    Ok(response)
}

// ---------------------------------------------------------------------------
// Charts

#[derive(Clone, Copy, PartialEq, Eq)]
enum ChartFor {
    Staff,
    Patient,
}

/// The trajectory as SVG, drawn by the shared chart module: the scores, the
/// infusions marked, the baseline and the rule's thresholds (staff), or the
/// scores, the infusions and "before treatment" (the patient's simpler one).
fn chart(t: &Trajectory, analysis: &Analysis, zone: &TimeZone, audience: ChartFor) -> String {
    let points: Vec<(f64, f64)> = t
        .points
        .iter()
        .filter_map(|p| {
            p.record
                .value
                .map(|v| (day_number(p.record.effective_at), v))
        })
        .collect();
    if points.is_empty() {
        return String::new();
    }
    let infusions: Vec<f64> = analysis
        .infusions
        .iter()
        .map(|at| day_number(*at))
        .collect();
    let xs = points.iter().map(|p| p.0).chain(infusions.iter().copied());
    let (low, high) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (low, high) = (low - 3.0, high + 3.0);
    let (width, height, ticks) = match audience {
        ChartFor::Staff => (560.0, 280.0, 7),
        ChartFor::Patient => (360.0, 240.0, 4),
    };
    let x = Axis::with_ticks("Date", low, high, date_ticks(low, high, zone, ticks));
    let mut y = Axis::linear(
        match audience {
            ChartFor::Staff => words::axis_label(t.scale),
            ChartFor::Patient => words::patient_axis_label(t.instrument, t.scale),
        },
        t.scale.lowest,
        t.scale.highest,
        5,
        crate::words::common::number,
    );
    // The scale's own range (a PHQ-9 ends at 27, not at the round 30).
    y.ticks
        .retain(|(v, _)| t.scale.lowest <= *v && *v <= t.scale.highest);
    y.min = t.scale.lowest;
    y.max = t.scale.highest;
    let id = format!(
        "chart-{}-{}{}",
        t.instrument.id(),
        t.scale.id,
        if audience == ChartFor::Patient {
            "-own"
        } else {
            ""
        }
    );
    let mut chart = Chart::new(id, words::chart_title(t.instrument, t.scale), x, y)
        .class("trajectory-chart")
        .size(width, height)
        .description(words::chart_description(
            points.len(),
            t.latest.map(|l| l.1),
            t.baseline_value(),
            infusions.len(),
            t.scale,
        ));
    chart = chart.layer(Layer::Line {
        points,
        class: "score".into(),
        label: match audience {
            ChartFor::Staff => t.scale.name.to_owned(),
            ChartFor::Patient => "Your answers".to_owned(),
        },
        dots: true,
    });
    for at in infusions {
        chart = chart.layer(Layer::Marker {
            x: at,
            class: "infusion".into(),
            label: "Infusion".into(),
        });
    }
    if let Some(b) = t.baseline_value() {
        chart = chart.layer(Layer::Reference {
            y: b,
            class: "baseline".into(),
            label: match audience {
                ChartFor::Staff => words::baseline_line(b),
                ChartFor::Patient => "Before treatment".to_owned(),
            },
        });
        if audience == ChartFor::Staff {
            for (n, line) in t.thresholds.iter().enumerate() {
                chart = chart.layer(Layer::Reference {
                    y: line.value,
                    class: format!("threshold threshold-{n}"),
                    label: words::threshold(line),
                });
            }
        }
    }
    chart.svg()
}

/// Days since 1970-01-01 (fractional): the charts' x.
fn day_number(at: Timestamp) -> f64 {
    at.as_millisecond() as f64 / 86_400_000.0
}

/// Ticks on the first of each month between `low` and `high` (day
/// numbers), at most about `most` of them (every second or third month on
/// a long span).
fn date_ticks(low: f64, high: f64, zone: &TimeZone, most: usize) -> Vec<(f64, String)> {
    let to_date = |day: f64| {
        Timestamp::from_millisecond((day * 86_400_000.0) as i64)
            .map(|at| at.to_zoned(zone.clone()).date())
            .ok()
    };
    let (Some(first), Some(last)) = (to_date(low), to_date(high)) else {
        return Vec::new();
    };
    let mut months = Vec::new();
    let mut month = first.first_of_month();
    while month <= last {
        if month >= first {
            months.push(month);
        }
        match month.checked_add(jiff::Span::new().months(1)) {
            Ok(next) => month = next,
            Err(_) => break,
        }
    }
    let stride = months.len().div_ceil(most.max(1)).max(1);
    months
        .into_iter()
        .step_by(stride)
        .filter_map(|m| {
            let at = m.to_zoned(zone.clone()).ok()?.timestamp();
            Some((day_number(at), words::month(m)))
        })
        .collect()
}
