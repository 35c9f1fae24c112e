//! Screening on the chart (SPEC §1.3): respite-clinical's verdict, criterion
//! by criterion, with the chart entries it used (dated, linked), the source
//! of each rule, what is missing as the next action, and interactions with
//! their mechanism. And the clinic's screening settings, which an admin
//! changes (audited) and the verdict applies.
//!
//! No rule is applied here: the store gathers the facts, the engine judges,
//! this module shows.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use respite_clinical::dosing::Verification;
use respite_clinical::screening::{
    rules::contraindication, screen, ContraindicationTier, CriterionId, FreshnessWindow,
    RecordKind, CONTRAINDICATIONS,
};
use respite_domain::inquiry::FieldError;
use respite_store::chart::{
    contraindication_code, record_kind_code, ClinicScreeningSettings, ScreeningSettingsUpdate,
    RECORD_KINDS,
};
use respite_store::{AuditStamp, ChartFacts, EntryRef, PatientRecord};
use serde::Deserialize;

use super::chart::entry_anchor;
use super::{parse_id, render_with, Nav, StaffPage};
use crate::csrf::MAX_UPLOAD_FILE_BYTES;
use crate::words::chart as chart_words;
use crate::words::screening as words;
use crate::{AppError, AppState};

/// A line of evidence, linked to the entry it came from.
pub struct Evidence {
    pub text: String,
    pub href: Option<String>,
}

pub struct CriterionView {
    pub number: u8,
    pub title: &'static str,
    pub status: &'static str,
    pub status_class: &'static str,
    pub rule: String,
    pub entries: Vec<Evidence>,
    pub evidence: Vec<String>,
    pub concerns: Vec<String>,
    pub actions: Vec<String>,
    pub source: &'static str,
    pub verification: &'static str,
}

pub struct InteractionView {
    pub medication: Evidence,
    pub group: &'static str,
    pub mechanism: &'static str,
    pub matched_by: String,
    pub source: &'static str,
}

pub struct FindingView {
    pub name: &'static str,
    pub tier: &'static str,
    pub when: String,
    pub source: &'static str,
}

#[derive(Template)]
#[template(path = "screening.html")]
struct ScreeningPage {
    nav: Nav,
    patient: PatientRecord,
    tab: &'static str,
    headline: &'static str,
    explained: &'static str,
    verdict_class: &'static str,
    evaluated_on: String,
    actions: Vec<String>,
    criteria: Vec<CriterionView>,
    interactions: Vec<InteractionView>,
    findings: Vec<FindingView>,
    override_allowed: bool,
    fingerprint: String,
}

fn verification(v: Verification) -> &'static str {
    match v {
        Verification::Checked => "checked against the source",
        Verification::ToCheck => "to be checked against the primary source",
    }
}

/// GET /staff/patients/{id}/screening
pub async fn screening_page(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    let today = page.today();
    let entries = state.store.chart_entries(patient.id).await?;
    let chart = respite_store::chart::gather_facts(&entries, today, &page.zone);
    let settings = state.store.screening_settings().await?;
    let result = screen(&chart.facts, &settings.screening, today);
    // Who the records request goes to: the professional who diagnosed, as
    // the chart names them (even where the qualification is not recorded).
    let physician = entries
        .problems
        .iter()
        .rev()
        .map(|p| p.diagnosed_by.trim())
        .find(|name| !name.is_empty());
    let cx = words::ActionContext {
        physician,
        windows: &settings.screening.record_windows,
        today,
    };
    let link = |entry: &EntryRef| Some(entry_anchor(patient.id, entry));

    let criteria = result
        .criteria
        .iter()
        .map(|c| {
            let mut rule = c.criterion.rule.to_owned();
            for (name, value) in &c.settings_used {
                rule = rule.replace(&format!("{{{name}}}"), &format!("[{value}]"));
            }
            CriterionView {
                number: c.criterion.number,
                title: c.criterion.title,
                status: words::status(c.status),
                status_class: words::status_class(c.status),
                rule,
                entries: entries_used(c.criterion.id, &chart, &entries, &settings, today, &link),
                evidence: c.evidence.clone(),
                concerns: c.concerns.clone(),
                actions: c
                    .missing
                    .iter()
                    .map(|m| words::next_action(m, &cx))
                    .collect(),
                source: c.criterion.source,
                verification: verification(c.criterion.verification),
            }
        })
        .collect();
    let interactions = result
        .interaction_flags
        .iter()
        .map(|flag| {
            let entry = chart
                .facts
                .medications
                .iter()
                .position(|m| m.name == flag.medication)
                .and_then(|i| chart.evidence.medications.get(i));
            InteractionView {
                medication: Evidence {
                    text: flag.medication.clone(),
                    href: entry.and_then(link),
                },
                group: flag.rule.name,
                mechanism: flag.rule.effect,
                matched_by: words::matched_by(&flag.matched_by),
                source: flag.rule.source,
            }
        })
        .collect();
    let findings = result
        .contraindications_found
        .iter()
        .map(|f| {
            let definition = contraindication(f.contraindication);
            FindingView {
                name: definition.name,
                tier: chart_words::tier(f.tier),
                when: match f.reviewed_on {
                    Some(date) => format!("review of {date}"),
                    None => "recorded allergy".into(),
                },
                source: definition.source,
            }
        })
        .collect();
    let template = ScreeningPage {
        nav: page.nav(),
        tab: "screening",
        headline: words::decision(result.decision),
        explained: words::decision_explained(result.decision),
        verdict_class: words::decision_class(result.decision),
        evaluated_on: today.to_string(),
        actions: result
            .missing()
            .into_iter()
            .map(|m| words::next_action(m, &cx))
            .collect(),
        criteria,
        interactions,
        findings,
        override_allowed: result.override_allowed(),
        fingerprint: chart.fingerprint().chars().take(12).collect(),
        patient,
    };
    render_with(StatusCode::OK, &template)
}

/// The chart entries a criterion read, each dated and linked.
fn entries_used(
    id: CriterionId,
    chart: &ChartFacts,
    entries: &respite_store::ChartEntries,
    settings: &ClinicScreeningSettings,
    today: jiff::civil::Date,
    link: &dyn Fn(&EntryRef) -> Option<String>,
) -> Vec<Evidence> {
    let facts = &chart.facts;
    let evidence = &chart.evidence;
    match id {
        CriterionId::Chronic => evidence
            .pain_onset
            .iter()
            .map(|e| Evidence {
                text: format!("pain onset {} (problem list)", e.dated),
                href: link(e),
            })
            .collect(),
        CriterionId::Diagnosed => evidence
            .diagnoses
            .iter()
            .filter_map(|e| {
                entries
                    .problems
                    .iter()
                    .find(|p| p.id == e.id)
                    .map(|p| (p, e))
            })
            .map(|(p, e)| Evidence {
                text: format!(
                    "{} {} diagnosed by {} ({}) on {}",
                    p.icd10cm_code,
                    p.display,
                    if p.diagnosed_by.trim().is_empty() {
                        "someone not recorded"
                    } else {
                        p.diagnosed_by.trim()
                    },
                    chart_words::qualification(p.qualification.as_ref()),
                    chart_words::date_or_dash(p.diagnosed_on)
                ),
                href: link(e),
            })
            .collect(),
        CriterionId::RecordsCurrent => facts
            .records
            .iter()
            .zip(&evidence.records)
            .map(|(r, e)| {
                let freshness = settings
                    .screening
                    .record_windows
                    .freshness(r.kind, r.dated, today);
                Evidence {
                    text: format!(
                        "{}: dated {}, {}",
                        chart_words::record_kind(r.kind),
                        r.dated,
                        chart_words::freshness(freshness)
                    ),
                    href: link(e),
                }
            })
            .collect(),
        CriterionId::ConventionalCareTried => facts
            .conventional_treatments
            .iter()
            .zip(&evidence.conventional_treatments)
            .map(|(t, e)| Evidence {
                text: format!(
                    "{} ({}), {}",
                    t.name,
                    chart_words::treatment_class(&t.class),
                    match t.duration_days {
                        Some(days) => format!("tried {days} days"),
                        None => "duration not recorded".into(),
                    }
                ),
                href: link(e),
            })
            .collect(),
        CriterionId::NoContraindication => {
            let mut out: Vec<Evidence> = evidence
                .contraindication_review
                .iter()
                .map(|e| Evidence {
                    text: format!("contraindication review of {}", e.dated),
                    href: link(e),
                })
                .collect();
            out.extend(
                facts
                    .allergies
                    .iter()
                    .zip(&evidence.allergies)
                    .map(|(a, e)| Evidence {
                        text: format!("allergy: {} (recorded {})", a.substance, e.dated),
                        href: link(e),
                    }),
            );
            out
        }
        CriterionId::InteractionsReviewed => {
            let mut out: Vec<Evidence> = chart
                .record(RecordKind::MedicationList)
                .map(|(r, e)| Evidence {
                    text: format!("medication list dated {}", r.dated),
                    href: link(&e),
                })
                .into_iter()
                .collect();
            out.extend(
                facts
                    .medications
                    .iter()
                    .zip(&evidence.medications)
                    .map(|(m, e)| Evidence {
                        text: format!("current: {}", m.name),
                        href: link(e),
                    }),
            );
            out
        }
    }
}

// ---------------------------------------------------------------------------
// The clinic's screening settings.

pub struct WindowRow {
    pub code: &'static str,
    pub name: &'static str,
    pub amount: String,
    pub months: bool,
}

pub struct TierRow {
    pub code: &'static str,
    pub name: &'static str,
    pub source: &'static str,
    pub current: &'static str,
    pub fixed: bool,
    pub default_tier: &'static str,
}

pub struct TierChoice {
    pub code: &'static str,
    pub words: &'static str,
}

#[derive(Template)]
#[template(path = "screening_settings.html")]
struct SettingsPage {
    nav: Nav,
    saved: bool,
    classes: String,
    max_upload_mib: String,
    max_upload_ceiling_mib: usize,
    windows: Vec<WindowRow>,
    tiers: Vec<TierRow>,
    tier_choices: Vec<TierChoice>,
    chronic_months: u32,
    changed: String,
    errors: Vec<FieldError>,
}

impl SettingsPage {
    pub fn error(&self, field: &str) -> Option<&str> {
        super::field_error(&self.errors, field)
    }
}

#[derive(Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

fn settings_view(
    page: &StaffPage,
    settings: &ClinicScreeningSettings,
    saved: bool,
    submitted: Option<&[(String, String)]>,
    errors: Vec<FieldError>,
) -> SettingsPage {
    let given = |field: &str| {
        submitted.and_then(|fields| {
            fields
                .iter()
                .find(|(k, _)| k == field)
                .map(|(_, v)| v.trim().to_owned())
        })
    };
    let screening = &settings.screening;
    SettingsPage {
        nav: page.nav(),
        saved,
        classes: given("minimum_conventional_classes")
            .unwrap_or_else(|| screening.minimum_conventional_classes.to_string()),
        max_upload_mib: given("max_upload_mib").unwrap_or_else(|| {
            format!("{}", settings.max_upload_bytes / (1024 * 1024))
        }),
        max_upload_ceiling_mib: MAX_UPLOAD_FILE_BYTES / (1024 * 1024),
        windows: RECORD_KINDS
            .iter()
            .map(|kind| {
                let code = record_kind_code(*kind);
                let (amount, months) = match screening.record_windows.window(*kind) {
                    FreshnessWindow::Days(n) => (n, false),
                    FreshnessWindow::Months(n) => (n, true),
                };
                WindowRow {
                    code,
                    name: chart_words::record_kind(*kind),
                    amount: given(&format!("window_{code}")).unwrap_or_else(|| amount.to_string()),
                    months: given(&format!("unit_{code}"))
                        .map_or(months, |unit| unit == "months"),
                }
            })
            .collect(),
        tiers: CONTRAINDICATIONS
            .iter()
            .map(|d| {
                let code = contraindication_code(d.id);
                let current = given(&format!("tier_{code}"))
                    .and_then(|t| ContraindicationTier::from_code(&t))
                    .unwrap_or_else(|| screening.contraindication_tiers.tier(d.id));
                TierRow {
                    code,
                    name: d.name,
                    source: d.source,
                    current: current.code(),
                    fixed: d.default_tier == ContraindicationTier::Absolute
                        && d.id
                            == respite_clinical::screening::Contraindication::KetamineHypersensitivity,
                    default_tier: chart_words::tier(d.default_tier),
                }
            })
            .collect(),
        tier_choices: ContraindicationTier::ALL
            .iter()
            .map(|t| TierChoice {
                code: t.code(),
                words: chart_words::tier(*t),
            })
            .collect(),
        chronic_months: screening.chronic_minimum_months,
        changed: match (&settings.updated_by, settings.updated_at) {
            (Some(by), Some(at)) => format!("Last changed by {by}, {}.", page.time(at)),
            _ => "The defaults of shared/clinical/screening.md; never changed.".into(),
        },
        errors,
    }
}

/// GET /staff/settings/screening
pub async fn settings_page(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let settings = state.store.screening_settings().await?;
    let view = settings_view(&page, &settings, query.saved.is_some(), None, Vec::new());
    render_with(StatusCode::OK, &view)
}

/// POST /staff/settings/screening
pub async fn save_settings(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let settings = state.store.screening_settings().await?;
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    };
    let mut errors = Vec::new();
    let mut fail = |field: &'static str, message: String| {
        errors.push(FieldError { field, message });
    };
    let classes = match get("minimum_conventional_classes").parse::<usize>() {
        Ok(n) if (1..=10).contains(&n) => n,
        _ => {
            fail(
                "minimum_conventional_classes",
                "must be a whole number from 1 to 10".into(),
            );
            0
        }
    };
    let ceiling = MAX_UPLOAD_FILE_BYTES / (1024 * 1024);
    let max_upload = match get("max_upload_mib").parse::<usize>() {
        Ok(n) if (1..=ceiling).contains(&n) => n as u64 * 1024 * 1024,
        _ => {
            fail(
                "max_upload_mib",
                format!("must be a whole number of MiB from 1 to {ceiling}"),
            );
            0
        }
    };
    let mut windows = Vec::new();
    for kind in RECORD_KINDS {
        let code = record_kind_code(kind);
        let field: &'static str = window_field(kind);
        let amount = get(&format!("window_{code}")).parse::<u32>().ok();
        let window = match (amount, get(&format!("unit_{code}"))) {
            (Some(n), "days") if (1..=3650).contains(&n) => Some(FreshnessWindow::Days(n)),
            (Some(n), "months") if (1..=120).contains(&n) => Some(FreshnessWindow::Months(n)),
            _ => None,
        };
        match window {
            Some(window) => windows.push((kind, window)),
            None => fail(field, "must be 1 to 3650 days or 1 to 120 months".into()),
        }
    }
    let mut tiers = Vec::new();
    for definition in &CONTRAINDICATIONS {
        let code = contraindication_code(definition.id);
        let Some(tier) = ContraindicationTier::from_code(get(&format!("tier_{code}"))) else {
            if definition.id
                == respite_clinical::screening::Contraindication::KetamineHypersensitivity
            {
                // Fixed by the label: not on the form.
                continue;
            }
            fail(
                tier_field(definition.id),
                "choose one of the three tiers".into(),
            );
            continue;
        };
        let mut check = settings.screening.contraindication_tiers.clone();
        if let Err(err) = check.set(definition.id, tier) {
            fail(tier_field(definition.id), err.to_string());
            continue;
        }
        tiers.push((definition.id, tier));
    }
    if !errors.is_empty() {
        let view = settings_view(&page, &settings, false, Some(&fields), errors);
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &view);
    }
    state
        .store
        .stamped(&audit)
        .update_screening_settings(
            &ScreeningSettingsUpdate {
                minimum_conventional_classes: classes,
                max_upload_bytes: max_upload,
                windows,
                tiers,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    Ok(Redirect::to("/staff/settings/screening?saved=1").into_response())
}

/// The form field of a record kind's window (static, for the error).
fn window_field(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::MedicationList => "window_medication-list",
        RecordKind::Allergies => "window_allergies",
        RecordKind::ProblemList => "window_problem-list",
        RecordKind::VitalSigns => "window_vital-signs",
        RecordKind::DiagnosisLetter => "window_diagnosis-letter",
        RecordKind::Ecg => "window_ecg",
        RecordKind::LiverFunctionTests => "window_liver-function-tests",
    }
}

fn tier_field(c: respite_clinical::screening::Contraindication) -> &'static str {
    use respite_clinical::screening::Contraindication::*;
    match c {
        PoorlyControlledCardiovascularDisease => "tier_poorly-controlled-cardiovascular-disease",
        Pregnancy => "tier_pregnancy",
        ActivePsychosis => "tier_active-psychosis",
        SevereHepaticDisease => "tier_severe-hepatic-disease",
        ModerateHepaticDisease => "tier_moderate-hepatic-disease",
        ElevatedIntracranialPressure => "tier_elevated-intracranial-pressure",
        ElevatedIntraocularPressure => "tier_elevated-intraocular-pressure",
        ActiveSubstanceAbuse => "tier_active-substance-abuse",
        KetamineHypersensitivity => "tier_ketamine-hypersensitivity",
        SignificantBloodPressureRiseHazard => "tier_significant-blood-pressure-rise-hazard",
    }
}
