//! The chart's records (SPEC §1.3): problems, medications and treatments
//! tried, allergies, vital signs, the contraindication review, pre-infusion
//! risks and documents — each entered, dated, attributed and audited, each
//! kind marked *stale* when older than its freshness window. Nurses and
//! clinicians write (WriteClinicalRecords); they and nobody else read
//! (ReadClinicalRecords). Every form comes back with the field and the rule
//! when it is refused, and nothing is written then.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::civil::{Date, DateTime};
use jiff::Timestamp;
use respite_clinical::dosing::DosingSettings;
use respite_clinical::screening::{
    Contraindication, PreInfusionRisks, RecordKind, TreatmentClass, CONTRAINDICATIONS,
};
use respite_domain::inquiry::FieldError;
use respite_domain::Permission;
use respite_store::chart::{
    contraindication_code, qualification_from_code, treatment_class_code, ChartEntries, ChartList,
    ClinicScreeningSettings, ConditionCodeRecord, CorrectableEntry, DocumentKind, MediaType,
    NewAllergy, NewContraindicationReview, NewDocument, NewMedication, NewPreInfusionRisks,
    NewProblem, NewVitals, StopReasonCode, VitalSign, TREATMENT_CLASSES,
};
use respite_store::{AuditStamp, ChartFacts, PatientRecord};

use super::{parse_id, render_with, Nav, StaffPage};
use crate::words::chart as words;
use crate::{AppError, AppState};

/// The longest free text of a chart field.
const TEXT_MAX_CHARS: usize = 500;

// ---------------------------------------------------------------------------
// The page.

/// A submitted form: its fields as sent, in order.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    fn checked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }
}

/// Which form came back refused, with what it held and why.
pub struct FormState {
    which: &'static str,
    fields: Fields,
    errors: Vec<FieldError>,
}

impl FormState {
    fn none() -> FormState {
        FormState {
            which: "",
            fields: Fields(Vec::new()),
            errors: Vec::new(),
        }
    }

    /// Whether `form` is the one that came back (its `<details>` opens).
    pub fn open(&self, form: &str) -> bool {
        self.which == form
    }

    /// What `form`'s field held when it came back, else `default`.
    pub fn value<'a>(&'a self, form: &str, field: &str, default: &'a str) -> &'a str {
        if self.which == form {
            self.fields.get(field)
        } else {
            default
        }
    }

    pub fn checked(&self, form: &str, field: &str) -> bool {
        self.which == form && self.fields.checked(field)
    }

    pub fn error(&self, form: &str, field: &str) -> Option<&str> {
        if self.which != form {
            return None;
        }
        super::field_error(&self.errors, field)
    }

    pub fn summary(&self, form: &str) -> Vec<String> {
        if self.which != form {
            return Vec::new();
        }
        self.errors.iter().map(ToString::to_string).collect()
    }
}

/// A record kind's freshness line at the head of its section.
pub struct KindStatus {
    pub badge: &'static str,
    pub class: &'static str,
    pub line: String,
}

pub struct ProblemRow {
    pub id: i64,
    pub code: String,
    pub display: String,
    pub snomed: String,
    pub version: String,
    pub onset: String,
    pub diagnosed: String,
    pub entered: String,
}

pub struct MedicationRow {
    pub id: i64,
    pub name: String,
    pub rxnorm: String,
    pub dose: String,
    pub taken: String,
    pub treatment: String,
    pub entered: String,
    pub pain_treatment: bool,
}

pub struct AllergyRow {
    pub id: i64,
    pub substance: String,
    pub what: String,
    pub reaction: String,
    pub recorded: String,
    pub entered: String,
    pub ketamine: bool,
}

pub struct VitalSet {
    pub when: String,
    pub values: Vec<(String, String, i64)>,
    pub entered: String,
}

pub struct ReviewRow {
    pub id: i64,
    pub reviewed_on: String,
    pub present: Vec<String>,
    pub note: String,
    pub entered: String,
}

pub struct RiskRow {
    pub id: i64,
    pub assessed_on: String,
    pub risks: Vec<&'static str>,
    pub note: String,
    pub entered: String,
}

pub struct DocumentRow {
    pub id: i64,
    pub kind: &'static str,
    pub date: String,
    pub title: String,
    pub author: String,
    pub file: String,
    pub entered: String,
}

pub struct ListReviewRow {
    pub list: &'static str,
    pub reviewed_on: String,
    pub entered: String,
}

pub struct Choice {
    pub code: String,
    pub words: String,
}

pub struct ContraindicationChoice {
    pub code: &'static str,
    pub name: &'static str,
    pub tier: &'static str,
}

#[derive(Template)]
#[template(path = "chart_records.html")]
struct RecordsPage {
    nav: Nav,
    patient: PatientRecord,
    tab: &'static str,
    may_write: bool,
    today: String,
    now_local: String,
    problem_status: KindStatus,
    medication_status: KindStatus,
    allergy_status: KindStatus,
    vitals_status: KindStatus,
    letter_status: KindStatus,
    ecg_status: KindStatus,
    lft_status: KindStatus,
    problems: Vec<ProblemRow>,
    current_medications: Vec<MedicationRow>,
    past_medications: Vec<MedicationRow>,
    allergies: Vec<AllergyRow>,
    ketamine_allergy: Option<String>,
    list_reviews: Vec<ListReviewRow>,
    vitals: Vec<VitalSet>,
    bmi: Option<String>,
    reviews: Vec<ReviewRow>,
    risks: Vec<RiskRow>,
    documents: Vec<DocumentRow>,
    codes: Vec<ConditionCodeRecord>,
    qualifications: Vec<Choice>,
    classes: Vec<Choice>,
    stop_reasons: Vec<Choice>,
    contraindications: Vec<ContraindicationChoice>,
    document_kinds: Vec<Choice>,
    vital_fields: Vec<(&'static str, &'static str, &'static str, &'static str)>,
    max_upload: String,
    form: FormState,
}

/// The patient named by the path, or 404.
async fn load_patient(state: &AppState, id: &str) -> Result<PatientRecord, AppError> {
    let id = parse_id(id)?;
    state.store.patient(id).await?.ok_or(AppError::NotFound)
}

/// GET /staff/patients/{id}/records
pub async fn records(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    records_page(&state, &page, patient, FormState::none(), StatusCode::OK).await
}

async fn records_page(
    state: &AppState,
    page: &StaffPage,
    patient: PatientRecord,
    form: FormState,
    status: StatusCode,
) -> Result<Response, AppError> {
    let today = page.today();
    let entries = state.store.chart_entries(patient.id).await?;
    let settings = state.store.screening_settings().await?;
    let facts = respite_store::chart::gather_facts(&entries, today, &page.zone);
    let time = |at: Timestamp| page.time(at);
    let kind_status = |kind: RecordKind| kind_status(&facts, &settings, kind, today);

    let problems = entries
        .problems
        .iter()
        .map(|p| ProblemRow {
            id: p.id,
            code: if p.icd10cm_code.is_empty() {
                "not yet coded".into()
            } else {
                p.icd10cm_code.clone()
            },
            display: p.display.clone(),
            snomed: p.snomed_ct.clone().unwrap_or_else(|| "—".into()),
            version: p.code_system_version.clone(),
            onset: match p.onset_date {
                Some(d) if p.onset_estimated => format!("{d} (estimated)"),
                Some(d) => format!("{d} (recorded)"),
                None => "not recorded".into(),
            },
            diagnosed: format!(
                "{} ({}), {}",
                if p.diagnosed_by.trim().is_empty() {
                    "not recorded"
                } else {
                    p.diagnosed_by.trim()
                },
                words::qualification(p.qualification.as_ref()),
                words::date_or_dash(p.diagnosed_on)
            ),
            entered: words::entered(&p.entered, time),
        })
        .collect();

    let medication_row = |m: &respite_store::chart::MedicationRecord| MedicationRow {
        id: m.id,
        name: m.name.clone(),
        rxnorm: match (&m.rxnorm_code, &m.rxnorm_ingredient) {
            (Some(code), Some(ingredient)) if code != ingredient => {
                format!("{code} → ingredient {ingredient}")
            }
            (Some(code), _) => code.clone(),
            (None, _) => "—".into(),
        },
        dose: if m.dose.is_empty() {
            "—".into()
        } else {
            m.dose.clone()
        },
        taken: match (m.started_on, m.stopped_on) {
            (Some(start), Some(stop)) => format!("{start} to {stop}"),
            (Some(start), None) => format!("since {start}"),
            (None, Some(stop)) => format!("until {stop}"),
            (None, None) => match m.tried_for_days {
                Some(days) => format!("{days} days (dates not known)"),
                None => "dates not known".into(),
            },
        },
        treatment: match &m.treatment_class {
            None => String::new(),
            Some(class) => {
                let mut text = words::treatment_class(class);
                if let Some(days) = m.duration_days() {
                    text.push_str(&format!(", tried {days} days"));
                }
                match m.stop_reason {
                    Some(reason) => {
                        text.push_str(&format!(
                            ", stopped: {}",
                            words::stop_reason(reason, &m.stop_reason_note)
                        ));
                    }
                    None if m.stopped_on.is_some() => text.push_str(", why stopped not recorded"),
                    None => {}
                }
                text
            }
        },
        entered: format!(
            "recorded {} · {}",
            m.recorded_on,
            words::entered(&m.entered, time)
        ),
        pain_treatment: m.treatment_class.is_some(),
    };
    let (current, past): (Vec<_>, Vec<_>) = entries
        .medications
        .iter()
        .partition(|m| m.is_current(today));

    let ketamine_ids: Vec<i64> = facts
        .evidence
        .allergies
        .iter()
        .zip(&facts.facts.allergies)
        .filter(|(_, a)| is_ketamine_allergy(a))
        .map(|(e, _)| e.id)
        .collect();
    let allergies: Vec<AllergyRow> = entries
        .allergies
        .iter()
        .map(|a| AllergyRow {
            id: a.id,
            substance: a.substance.clone(),
            what: format!(
                "{} {}, {}{}",
                words::allergy_category(&a.category),
                words::allergy_kind(&a.kind),
                words::criticality(&a.criticality),
                a.rxnorm_code
                    .as_deref()
                    .map(|c| format!(", RxNorm {c}"))
                    .unwrap_or_default()
            ),
            reaction: if a.reaction.is_empty() {
                "—".into()
            } else {
                a.reaction.clone()
            },
            recorded: a.recorded_on.to_string(),
            entered: words::entered(&a.entered, time),
            ketamine: ketamine_ids.contains(&a.id),
        })
        .collect();
    let ketamine_allergy = allergies
        .iter()
        .find(|a| a.ketamine)
        .map(|a| format!("{} ({}), recorded {}", a.substance, a.reaction, a.recorded));

    let list_reviews = entries
        .list_reviews
        .iter()
        .map(|r| ListReviewRow {
            list: match r.list {
                ChartList::Medications => "medication list",
                ChartList::Allergies => "allergies (none known)",
                ChartList::Problems => "problem list",
            },
            reviewed_on: r.reviewed_on.to_string(),
            entered: words::entered(&r.entered, time),
        })
        .collect();

    let vitals = vital_sets(&entries, page);
    let latest = |sign: VitalSign| {
        entries
            .vitals
            .iter()
            .find(|v| v.sign == sign)
            .map(|v| v.value)
    };
    let bmi = match (latest(VitalSign::BodyWeight), latest(VitalSign::BodyHeight)) {
        (Some(weight), Some(height)) => words::bmi(weight, height),
        _ => None,
    };

    let reviews = entries
        .contraindication_reviews
        .iter()
        .map(|r| ReviewRow {
            id: r.id,
            reviewed_on: r.reviewed_on.to_string(),
            present: r
                .present()
                .into_iter()
                .map(|c| {
                    format!(
                        "{} — {}",
                        words::contraindication_name(c),
                        words::tier(settings.screening.contraindication_tiers.tier(c))
                    )
                })
                .collect(),
            note: r.note.clone(),
            entered: words::entered(&r.entered, time),
        })
        .collect();
    let risks = entries
        .pre_infusion_risks
        .iter()
        .map(|r| RiskRow {
            id: r.id,
            assessed_on: r.assessed_on.to_string(),
            risks: risk_words(r.risks),
            note: r.note.clone(),
            entered: words::entered(&r.entered, time),
        })
        .collect();
    let documents = entries
        .documents
        .iter()
        .map(|d| DocumentRow {
            id: d.id,
            kind: words::document_kind(d.kind),
            date: d.document_date.to_string(),
            title: d.title.clone(),
            author: if d.author.is_empty() {
                "—".into()
            } else {
                d.author.clone()
            },
            file: format!(
                "{}, {}",
                words::media_type(d.media_type),
                words::size(u64::try_from(d.size_bytes).unwrap_or(0))
            ),
            entered: words::entered(&d.entered, time),
        })
        .collect();

    let choices = |items: Vec<(String, String)>| {
        items
            .into_iter()
            .map(|(code, words)| Choice { code, words })
            .collect::<Vec<_>>()
    };
    let template = RecordsPage {
        nav: page.nav(),
        tab: "records",
        may_write: page.may(Permission::WriteClinicalRecords),
        today: today.to_string(),
        now_local: page
            .now
            .to_zoned(page.zone.clone())
            .strftime("%Y-%m-%dT%H:%M")
            .to_string(),
        problem_status: kind_status(RecordKind::ProblemList),
        medication_status: kind_status(RecordKind::MedicationList),
        allergy_status: kind_status(RecordKind::Allergies),
        vitals_status: kind_status(RecordKind::VitalSigns),
        letter_status: kind_status(RecordKind::DiagnosisLetter),
        ecg_status: kind_status(RecordKind::Ecg),
        lft_status: kind_status(RecordKind::LiverFunctionTests),
        problems,
        current_medications: current.into_iter().map(medication_row).collect(),
        past_medications: past.into_iter().map(medication_row).collect(),
        allergies,
        ketamine_allergy,
        list_reviews,
        vitals,
        bmi,
        reviews,
        risks,
        documents,
        codes: state.store.condition_codes().await?,
        qualifications: choices(
            words::QUALIFICATIONS
                .iter()
                .map(|(c, w)| ((*c).to_owned(), (*w).to_owned()))
                .collect(),
        ),
        classes: choices(
            TREATMENT_CLASSES
                .iter()
                .map(|c| (treatment_class_code(c), words::treatment_class(c)))
                .chain([("other".to_owned(), "another class (say which)".to_owned())])
                .collect(),
        ),
        stop_reasons: choices(
            StopReasonCode::ALL
                .iter()
                .map(|r| {
                    (
                        r.as_str().to_owned(),
                        words::stop_reason_option(*r).to_owned(),
                    )
                })
                .collect(),
        ),
        contraindications: CONTRAINDICATIONS
            .iter()
            .map(|d| ContraindicationChoice {
                code: contraindication_code(d.id),
                name: d.name,
                tier: words::tier(settings.screening.contraindication_tiers.tier(d.id)),
            })
            .collect(),
        document_kinds: choices(
            DocumentKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), words::document_kind(*k).to_owned()))
                .collect(),
        ),
        vital_fields: VITAL_FIELDS
            .iter()
            .map(|(field, sign, step)| {
                (
                    *field,
                    words::vital_sign(*sign),
                    words::vital_unit(*sign),
                    *step,
                )
            })
            .collect(),
        max_upload: words::size(settings.max_upload_bytes),
        patient,
        form,
    };
    render_with(status, &template)
}

fn is_ketamine_allergy(allergy: &respite_clinical::screening::Allergy) -> bool {
    // The same test the engine makes (criterion 5), run on one allergy.
    let facts = respite_clinical::screening::PatientFacts {
        allergies: vec![allergy.clone()],
        ..Default::default()
    };
    respite_clinical::screening::screen(
        &facts,
        &respite_clinical::screening::ScreeningSettings::default(),
        Date::MAX,
    )
    .contraindications_found
    .iter()
    .any(|f| f.contraindication == Contraindication::KetamineHypersensitivity)
}

fn kind_status(
    facts: &ChartFacts,
    settings: &ClinicScreeningSettings,
    kind: RecordKind,
    today: Date,
) -> KindStatus {
    let windows = &settings.screening.record_windows;
    let window = words::window(windows.window(kind));
    match facts.record(kind) {
        Some((record, _)) => {
            let freshness = windows.freshness(kind, record.dated, today);
            KindStatus {
                badge: words::freshness_badge(Some(freshness)),
                class: words::freshness_class(Some(freshness)),
                line: format!(
                    "dated {}, {} (window {window}, a clinic setting)",
                    record.dated,
                    words::freshness(freshness)
                ),
            }
        }
        None => KindStatus {
            badge: words::freshness_badge(None),
            class: words::freshness_class(None),
            line: format!("none on file (kept current for {window}, a clinic setting)"),
        },
    }
}

fn risk_words(risks: PreInfusionRisks) -> Vec<&'static str> {
    let mut out = Vec::new();
    if risks.cardiovascular_suspected_or_high_risk {
        out.push("cardiovascular disease suspected or high risk: baseline ECG");
    }
    if risks.liver_dysfunction_or_risk {
        out.push("liver dysfunction or risk of liver toxicity: liver function tests");
    }
    if risks.high_dose_frequent_infusions_planned {
        out.push("high-dose frequent infusions planned: liver function tests");
    }
    if out.is_empty() {
        out.push("no risk found: no pre-infusion tests required");
    }
    out
}

/// The vital signs, grouped by when they were taken, newest first.
fn vital_sets(entries: &ChartEntries, page: &StaffPage) -> Vec<VitalSet> {
    let mut sets: Vec<VitalSet> = Vec::new();
    let mut last: Option<Timestamp> = None;
    for v in &entries.vitals {
        if last != Some(v.observed_at) {
            sets.push(VitalSet {
                when: page.time(v.observed_at),
                values: Vec::new(),
                entered: words::entered(&v.entered, |at| page.time(at)),
            });
            last = Some(v.observed_at);
        }
        if let Some(set) = sets.last_mut() {
            set.values.push((
                words::vital_sign(v.sign).to_owned(),
                words::vital_value(v.sign, v.value),
                v.id,
            ));
        }
        if sets.len() > 20 {
            break;
        }
    }
    sets.truncate(20);
    // Each set in the order of the form: blood pressure first, height last.
    for set in &mut sets {
        set.values.sort_by_key(|(label, _, _)| {
            VitalSign::ALL
                .iter()
                .position(|sign| words::vital_sign(*sign) == label.as_str())
        });
    }
    sets
}

// ---------------------------------------------------------------------------
// Field rules.

struct Check<'a> {
    fields: &'a Fields,
    errors: Vec<FieldError>,
    today: Date,
}

impl<'a> Check<'a> {
    fn new(fields: &'a Fields, today: Date) -> Self {
        Check {
            fields,
            errors: Vec::new(),
            today,
        }
    }

    fn fail(&mut self, field: &'static str, message: impl Into<String>) {
        if !self.errors.iter().any(|e| e.field == field) {
            self.errors.push(FieldError {
                field,
                message: message.into(),
            });
        }
    }

    /// Free text, at most `TEXT_MAX_CHARS`; required or not.
    fn text(&mut self, field: &'static str, required: bool) -> &'a str {
        let value = self.fields.get(field);
        if required && value.is_empty() {
            self.fail(field, "is required");
        } else if value.chars().count() > TEXT_MAX_CHARS {
            self.fail(
                field,
                format!("must be at most {TEXT_MAX_CHARS} characters"),
            );
        }
        value
    }

    /// A date on or before today (and after 1900), or `None` when empty and
    /// not required.
    fn date(&mut self, field: &'static str, required: bool) -> Option<Date> {
        let value = self.fields.get(field);
        if value.is_empty() {
            if required {
                self.fail(field, "is required: a date like 2026-05-27");
            }
            return None;
        }
        match value.parse::<Date>() {
            Ok(date) if date > self.today => {
                self.fail(field, format!("must not be after today ({})", self.today));
                None
            }
            Ok(date) if date.year() < 1900 => {
                self.fail(field, "must be after 1900");
                None
            }
            Ok(date) => Some(date),
            Err(_) => {
                self.fail(field, "must be a date like 2026-05-27");
                None
            }
        }
    }

    /// An RxNorm code: digits only (RXCUIs are integers).
    fn rxnorm(&mut self, field: &'static str) -> Option<&'a str> {
        let value = self.fields.get(field);
        if value.is_empty() {
            return None;
        }
        if value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
            self.fail(
                field,
                "must be an RxNorm code (RXCUI): digits only, e.g. 6470",
            );
            return None;
        }
        Some(value)
    }

    /// A number in `lo..=hi` (plausible entry range: catches typing errors).
    fn number(&mut self, field: &'static str, lo: f64, hi: f64, unit: &str) -> Option<f64> {
        let value = self.fields.get(field);
        if value.is_empty() {
            return None;
        }
        match value.replace(',', ".").parse::<f64>() {
            Ok(n) if n.is_finite() && lo <= n && n <= hi => Some(n),
            Ok(_) => {
                self.fail(field, format!("must be between {lo} and {hi} {unit}"));
                None
            }
            Err(_) => {
                self.fail(field, format!("must be a number in {unit}"));
                None
            }
        }
    }

    /// One of `choices`.
    fn choice(&mut self, field: &'static str, choices: &[&str], words: &str) -> &'a str {
        let value = self.fields.get(field);
        if !choices.contains(&value) {
            self.fail(field, format!("choose {words}"));
        }
        value
    }
}

/// After a write: back to the section, on the records page.
fn back_to(patient_id: i64, section: &str) -> Response {
    Redirect::to(&format!("/staff/patients/{patient_id}/records#{section}")).into_response()
}

/// A form refused for bad input: the records page again, on the form's
/// section, with what was typed and each field's error (422).
async fn reject(
    state: &AppState,
    page: &StaffPage,
    patient: PatientRecord,
    which: &'static str,
    fields: Fields,
    errors: Vec<FieldError>,
) -> Result<Response, AppError> {
    refused(
        state,
        page,
        patient,
        which,
        fields,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn refused(
    state: &AppState,
    page: &StaffPage,
    patient: PatientRecord,
    which: &'static str,
    fields: Fields,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let form = FormState {
        which,
        fields,
        errors,
    };
    records_page(state, page, patient, form, status).await
}

// ---------------------------------------------------------------------------
// Writes.

/// POST /staff/patients/{id}/problems
pub async fn add_problem(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let fields = Fields(fields);
    let mut check = Check::new(&fields, page.today());
    let code = check.text("icd10cm_code", true);
    let known = if code.is_empty() {
        None
    } else {
        state.store.condition_code(code).await?
    };
    if !code.is_empty() && known.is_none() {
        check.fail(
            "icd10cm_code",
            format!("{code} is not in the clinic's ICD-10-CM table: choose a code from the list"),
        );
    }
    let onset = check.date("onset_date", true);
    let diagnosed_by = check.text("diagnosed_by", true);
    let qualification_code = check.choice(
        "qualification",
        &[
            "physician",
            "nurse-practitioner",
            "physician-assistant",
            "other",
        ],
        "the diagnosing professional's qualification",
    );
    let other = check.text("qualification_other", false);
    let qualification = qualification_from_code(qualification_code, other);
    if qualification_code == "other" && other.is_empty() {
        check.fail(
            "qualification_other",
            "is required: say which qualification",
        );
    }
    let diagnosed_on = check.date("diagnosed_on", true);
    let recorded_on = check.date("recorded_on", true);
    let (Some(onset), Some(qualification), Some(diagnosed_on), Some(recorded_on), true) = (
        onset,
        qualification,
        diagnosed_on,
        recorded_on,
        check.errors.is_empty(),
    ) else {
        let errors = check.errors;
        return reject(&state, &page, patient, "problem", fields, errors).await;
    };
    state
        .store
        .stamped(&audit)
        .add_problem(
            patient.id,
            &NewProblem {
                icd10cm_code: code,
                onset_date: onset,
                onset_estimated: fields.checked("onset_estimated"),
                diagnosed_by,
                qualification,
                diagnosed_on,
                recorded_on,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    Ok(back_to(patient.id, "problems"))
}

/// POST /staff/patients/{id}/medications
pub async fn add_medication(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let fields = Fields(fields);
    let mut check = Check::new(&fields, page.today());
    let name = check.text("name", true);
    let rxnorm = check.rxnorm("rxnorm_code");
    let dose = check.text("dose", false);
    let started_on = check.date("started_on", false);
    let stopped_on = check.date("stopped_on", false);
    if let (Some(start), Some(stop)) = (started_on, stopped_on) {
        if stop < start {
            check.fail(
                "stopped_on",
                format!("must not be before the start date (started_on {start})"),
            );
        }
    }
    let tried_for_days = match fields.get("tried_for_days") {
        "" => None,
        text => match text.parse::<u32>() {
            Ok(days) if (1..=36_500).contains(&days) => Some(days),
            _ => {
                check.fail(
                    "tried_for_days",
                    "must be a whole number of days from 1 to 36500",
                );
                None
            }
        },
    };
    let class_code = fields.get("treatment_class");
    let treatment_class = match class_code {
        "" => None,
        "other" => {
            let other = check.text("treatment_class_other", true);
            (!other.is_empty()).then(|| TreatmentClass::Other(other.to_owned()))
        }
        code => {
            let class = respite_store::chart::treatment_class_from_code(code);
            if class.is_none() {
                check.fail("treatment_class", "choose one of the listed classes");
            }
            class
        }
    };
    let stop_reason = match fields.get("stop_reason") {
        "" => None,
        code => {
            let reason = StopReasonCode::parse(code);
            if reason.is_none() {
                check.fail("stop_reason", "choose one of the listed reasons");
            }
            reason
        }
    };
    let note = check.text("stop_reason_note", false);
    if stop_reason == Some(StopReasonCode::Other) && note.is_empty() {
        check.fail("stop_reason_note", "is required: say why it was stopped");
    }
    if stop_reason.is_some() && treatment_class.is_none() {
        check.fail(
            "treatment_class",
            "is required with a stop reason: choose the class of the pain treatment",
        );
    }
    let recorded_on = check.date("recorded_on", true);
    let Some(recorded_on) = recorded_on.filter(|_| check.errors.is_empty()) else {
        let errors = check.errors;
        return reject(&state, &page, patient, "medication", fields, errors).await;
    };
    state
        .store
        .stamped(&audit)
        .add_medication(
            patient.id,
            &NewMedication {
                name,
                rxnorm_code: rxnorm,
                dose,
                started_on,
                stopped_on,
                tried_for_days,
                treatment_class,
                stop_reason,
                stop_reason_note: note,
                recorded_on,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    Ok(back_to(patient.id, "medications"))
}

/// POST /staff/patients/{id}/entered-in-error — a problem, medication,
/// allergy or document marked entered in error, with the reason. Nothing is
/// deleted; the entry leaves the chart's lists and the screening.
pub async fn mark_entered_in_error(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let fields = Fields(fields);
    let mut check = Check::new(&fields, page.today());
    let entry = CorrectableEntry::parse(fields.get("entry"));
    if entry.is_none() {
        check.fail("entry", "choose a problem, medication, allergy or document");
    }
    let entry_id = fields
        .get("entry_id")
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0);
    let reason = check.text("reason", true);
    let marked = match (entry, entry_id, check.errors.is_empty()) {
        (Some(entry), Some(entry_id), true) => {
            state
                .store
                .stamped(&audit)
                .mark_entered_in_error(
                    patient.id,
                    entry,
                    entry_id,
                    reason,
                    page.session.user.id,
                    page.now,
                )
                .await?
        }
        _ => false,
    };
    if !marked {
        if check.errors.is_empty() {
            check.fail(
                "entry_id",
                "must name one of this patient's entries in force",
            );
        }
        let errors = check.errors;
        return reject(&state, &page, patient, "error", fields, errors).await;
    }
    let section = match entry {
        Some(CorrectableEntry::Problem) => "problems",
        Some(CorrectableEntry::Medication) => "medications",
        Some(CorrectableEntry::Allergy) => "allergies",
        _ => "documents",
    };
    Ok(back_to(patient.id, section))
}

/// POST /staff/patients/{id}/medications/stop — a current medication stopped.
pub async fn stop_medication(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let fields = Fields(fields);
    let mut check = Check::new(&fields, page.today());
    let entries = state.store.chart_entries(patient.id).await?;
    let medication = fields
        .get("medication_id")
        .parse::<i64>()
        .ok()
        .and_then(|mid| entries.medications.iter().find(|m| m.id == mid));
    let Some(medication) = medication else {
        check.fail(
            "medication_id",
            "must name one of this patient's medications",
        );
        let errors = check.errors;
        return reject(&state, &page, patient, "stop", fields, errors).await;
    };
    let stopped_on = check.date("stopped_on", true);
    if let (Some(start), Some(stop)) = (medication.started_on, stopped_on) {
        if stop < start {
            check.fail(
                "stopped_on",
                format!("must not be before the start date (started_on {start})"),
            );
        }
    }
    let stop_reason = match fields.get("stop_reason") {
        "" => None,
        code => {
            let reason = StopReasonCode::parse(code);
            if reason.is_none() {
                check.fail("stop_reason", "choose one of the listed reasons");
            }
            reason
        }
    };
    let note = check.text("stop_reason_note", false);
    if stop_reason == Some(StopReasonCode::Other) && note.is_empty() {
        check.fail("stop_reason_note", "is required: say why it was stopped");
    }
    let Some(stopped_on) = stopped_on.filter(|_| check.errors.is_empty()) else {
        let errors = check.errors;
        return reject(&state, &page, patient, "stop", fields, errors).await;
    };
    state
        .store
        .stamped(&audit)
        .stop_medication(patient.id, medication.id, stopped_on, stop_reason, note)
        .await?;
    Ok(back_to(patient.id, "medications"))
}

/// POST /staff/patients/{id}/allergies
pub async fn add_allergy(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let fields = Fields(fields);
    let mut check = Check::new(&fields, page.today());
    let substance = check.text("substance", true);
    let rxnorm = check.rxnorm("rxnorm_code");
    let kind = check.choice(
        "kind",
        &["allergy", "intolerance"],
        "allergy or intolerance",
    );
    let category = check.choice(
        "category",
        &["medication", "food", "environment", "biologic"],
        "medication, food, environment or biologic",
    );
    let criticality = check.choice(
        "criticality",
        &["low", "high", "unable-to-assess"],
        "low risk, high risk or not assessed",
    );
    let reaction = check.text("reaction", false);
    let recorded_on = check.date("recorded_on", true);
    let Some(recorded_on) = recorded_on.filter(|_| check.errors.is_empty()) else {
        let errors = check.errors;
        return reject(&state, &page, patient, "allergy", fields, errors).await;
    };
    state
        .store
        .stamped(&audit)
        .add_allergy(
            patient.id,
            &NewAllergy {
                substance,
                rxnorm_code: rxnorm,
                kind,
                category,
                criticality,
                reaction,
                recorded_on,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    Ok(back_to(patient.id, "allergies"))
}

/// POST /staff/patients/{id}/list-reviews — a list reviewed, nothing to
/// add (e.g. no known allergies).
pub async fn review_list(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let fields = Fields(fields);
    let mut check = Check::new(&fields, page.today());
    let list = ChartList::parse(fields.get("list"));
    if list.is_none() {
        check.fail("list", "choose medications, allergies or problems");
    }
    let reviewed_on = check.date("reviewed_on", true);
    let (Some(list), Some(reviewed_on), true) = (list, reviewed_on, check.errors.is_empty()) else {
        let errors = check.errors;
        return reject(&state, &page, patient, "review", fields, errors).await;
    };
    state
        .store
        .stamped(&audit)
        .review_list(
            patient.id,
            list,
            reviewed_on,
            page.session.user.id,
            page.now,
        )
        .await?;
    let section = match list {
        ChartList::Medications => "medications",
        ChartList::Allergies => "allergies",
        ChartList::Problems => "problems",
    };
    Ok(back_to(patient.id, section))
}

/// The vital-sign fields of the form: (field, sign, step).
const VITAL_FIELDS: [(&str, VitalSign, &str); 8] = [
    ("systolic", VitalSign::Systolic, "1"),
    ("diastolic", VitalSign::Diastolic, "1"),
    ("heart_rate", VitalSign::HeartRate, "1"),
    ("respiratory_rate", VitalSign::RespiratoryRate, "1"),
    ("oxygen_saturation", VitalSign::OxygenSaturation, "1"),
    ("temperature", VitalSign::BodyTemperature, "0.1"),
    ("weight_kg", VitalSign::BodyWeight, "0.1"),
    ("height_cm", VitalSign::BodyHeight, "0.1"),
];

/// POST /staff/patients/{id}/vitals
pub async fn add_vitals(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let fields = Fields(fields);
    let mut check = Check::new(&fields, page.today());
    let observed_at = match fields.get("observed_at") {
        "" => {
            check.fail(
                "observed_at",
                "is required: when the measurements were taken",
            );
            None
        }
        text => match text
            .parse::<DateTime>()
            .ok()
            .and_then(|local| local.to_zoned(page.zone.clone()).ok())
        {
            // A minute's grace for the clock of the device that filled the form.
            Some(at) if at.timestamp() > page.now + jiff::SignedDuration::from_mins(1) => {
                check.fail("observed_at", "must not be in the future");
                None
            }
            Some(at) => Some(at.timestamp()),
            None => {
                check.fail(
                    "observed_at",
                    "must be a date and time like 2026-05-27T09:30",
                );
                None
            }
        },
    };
    // Plausible entry ranges (ours): they catch typing errors, they are not
    // clinical thresholds. Weight and height use the dosing's plausibility
    // ranges (respite-clinical DosingSettings), so that a weight accepted
    // here is one a dose can be calculated from.
    let dosing = DosingSettings::default();
    let weight_range = (
        dosing.plausible_weight.min.value(),
        dosing.plausible_weight.max.value(),
    );
    let height_range = (
        dosing.plausible_height.min.value(),
        dosing.plausible_height.max.value(),
    );
    let mut values = Vec::new();
    for (field, sign, _) in VITAL_FIELDS {
        let (lo, hi) = match sign {
            VitalSign::Systolic => (50.0, 300.0),
            VitalSign::Diastolic => (20.0, 200.0),
            VitalSign::HeartRate => (20.0, 300.0),
            VitalSign::RespiratoryRate => (4.0, 80.0),
            VitalSign::OxygenSaturation => (50.0, 100.0),
            VitalSign::BodyTemperature => (30.0, 45.0),
            VitalSign::BodyWeight => weight_range,
            VitalSign::BodyHeight => height_range,
        };
        if let Some(value) = check.number(field, lo, hi, words::vital_unit(sign)) {
            values.push((sign, value));
        }
    }
    let has = |sign: VitalSign| values.iter().any(|(s, _)| *s == sign);
    if has(VitalSign::Systolic) != has(VitalSign::Diastolic) {
        let missing = if has(VitalSign::Systolic) {
            "diastolic"
        } else {
            "systolic"
        };
        check.fail(missing, "is required with the other blood pressure value");
    }
    let pressure = |sign: VitalSign| values.iter().find(|(s, _)| *s == sign).map(|(_, v)| *v);
    if let (Some(sys), Some(dia)) = (
        pressure(VitalSign::Systolic),
        pressure(VitalSign::Diastolic),
    ) {
        if dia >= sys {
            check.fail("diastolic", "must be lower than the systolic pressure");
        }
    }
    if values.is_empty() && check.errors.is_empty() {
        check.fail("systolic", "enter at least one measurement");
    }
    let Some(observed_at) = observed_at.filter(|_| check.errors.is_empty()) else {
        let errors = check.errors;
        return reject(&state, &page, patient, "vitals", fields, errors).await;
    };
    state
        .store
        .stamped(&audit)
        .add_vitals(
            patient.id,
            &NewVitals {
                observed_at,
                values,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    Ok(back_to(patient.id, "vitals"))
}

/// POST /staff/patients/{id}/contraindication-review
pub async fn add_contraindication_review(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let fields = Fields(fields);
    let mut check = Check::new(&fields, page.today());
    let reviewed_on = check.date("reviewed_on", true);
    let note = check.text("note", false);
    let present: Vec<Contraindication> = CONTRAINDICATIONS
        .iter()
        .map(|d| d.id)
        .filter(|c| fields.checked(&format!("present_{}", contraindication_code(*c))))
        .collect();
    if !present.is_empty() && fields.checked("none_present") {
        check.fail(
            "none_present",
            "cannot be ticked with a contraindication present",
        );
    }
    if present.is_empty() && !fields.checked("none_present") {
        check.fail(
            "none_present",
            "tick the contraindications present, or confirm that none is",
        );
    }
    let Some(reviewed_on) = reviewed_on.filter(|_| check.errors.is_empty()) else {
        let errors = check.errors;
        return reject(&state, &page, patient, "contraindications", fields, errors).await;
    };
    state
        .store
        .stamped(&audit)
        .add_contraindication_review(
            patient.id,
            &NewContraindicationReview {
                reviewed_on,
                present,
                note,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    Ok(back_to(patient.id, "contraindications"))
}

/// POST /staff/patients/{id}/pre-infusion-risks
pub async fn add_pre_infusion_risks(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let fields = Fields(fields);
    let mut check = Check::new(&fields, page.today());
    let assessed_on = check.date("assessed_on", true);
    let note = check.text("note", false);
    let Some(assessed_on) = assessed_on.filter(|_| check.errors.is_empty()) else {
        let errors = check.errors;
        return reject(&state, &page, patient, "risks", fields, errors).await;
    };
    state
        .store
        .stamped(&audit)
        .add_pre_infusion_risks(
            patient.id,
            &NewPreInfusionRisks {
                assessed_on,
                risks: PreInfusionRisks {
                    cardiovascular_suspected_or_high_risk: fields.checked("cardiovascular_risk"),
                    liver_dysfunction_or_risk: fields.checked("liver_risk"),
                    high_dose_frequent_infusions_planned: fields.checked("high_dose_frequent"),
                },
                note,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    Ok(back_to(patient.id, "risks"))
}

/// The media type of a file, by its first bytes (its name and declared
/// type are not trusted): PDF `%PDF-` (ISO 32000-1 §7.5.2), PNG's 8-byte
/// signature (RFC 2083 §3.1), JPEG's SOI marker and a marker (`FF D8 FF`,
/// ITU-T T.81 Annex B).
pub fn sniff(content: &[u8]) -> Option<MediaType> {
    if content.starts_with(b"%PDF-") {
        Some(MediaType::Pdf)
    } else if content.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaType::Png)
    } else if content.starts_with(b"\xFF\xD8\xFF") {
        Some(MediaType::Jpeg)
    } else {
        None
    }
}

/// POST /staff/patients/{id}/documents — `multipart/form-data` with the file.
pub async fn upload_document(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let patient = load_patient(&state, &id).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = crate::multipart::parse(content_type, &body).unwrap_or_default();
    let mut file = None;
    let mut text = Vec::new();
    for part in parts {
        if part.name == "file" && part.file_name.is_some() {
            file = Some(part);
        } else if part.file_name.is_none() {
            text.push((part.name.clone(), part.text()));
        }
    }
    let fields = Fields(text);
    let mut check = Check::new(&fields, page.today());
    let kind = DocumentKind::parse(fields.get("kind"));
    if kind.is_none() {
        check.fail("kind", "choose what the document is");
    }
    let document_date = check.date("document_date", true);
    let title = check.text("title", true);
    let author = check.text("author", false);
    let settings = state.store.screening_settings().await?;
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    let file = match file.filter(|f| !f.data.is_empty()) {
        None => {
            check.fail("file", "is required: choose a PDF, PNG or JPEG file");
            None
        }
        Some(f) if f.data.len() as u64 > settings.max_upload_bytes => {
            check.fail(
                "file",
                format!(
                    "is larger than the clinic's limit of {} (a clinic setting): this file is {} \
                     bytes",
                    words::size(settings.max_upload_bytes),
                    f.data.len()
                ),
            );
            status = StatusCode::PAYLOAD_TOO_LARGE;
            None
        }
        Some(f) => match sniff(&f.data) {
            Some(media) => Some((f, media)),
            None => {
                check.fail(
                    "file",
                    "must be a PDF, PNG or JPEG file (checked by its content, not its name)",
                );
                None
            }
        },
    };
    let (Some(kind), Some(document_date), Some((file, media_type)), true) =
        (kind, document_date, file, check.errors.is_empty())
    else {
        let errors = check.errors;
        return refused(&state, &page, patient, "document", fields, errors, status).await;
    };
    let file_name: String = file
        .file_name
        .as_deref()
        .unwrap_or("document")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("document")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    state
        .store
        .stamped(&audit)
        .add_document(
            patient.id,
            &NewDocument {
                kind,
                document_date,
                title,
                author,
                file_name: &file_name,
                media_type,
                content: &file.data,
            },
            page.session.user.id,
            page.now,
        )
        .await?;
    Ok(back_to(patient.id, "documents"))
}

/// GET /staff/documents/{id} — the file, as an attachment (audited read).
pub async fn download_document(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let document = state
        .store
        .chart_document_by_id(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let name: String = document
        .record
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                document.record.media_type.as_str().to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        document.content,
    )
        .into_response())
}

/// For the screening page: the records page's anchor of an entry.
pub fn entry_anchor(patient_id: i64, entry: &respite_store::EntryRef) -> String {
    use respite_store::EntryKind::*;
    match entry.kind {
        Document => format!("/staff/documents/{}", entry.id),
        Problem => format!("/staff/patients/{patient_id}/records#problem-{}", entry.id),
        Medication => format!(
            "/staff/patients/{patient_id}/records#medication-{}",
            entry.id
        ),
        Allergy => format!("/staff/patients/{patient_id}/records#allergy-{}", entry.id),
        ListReview => format!("/staff/patients/{patient_id}/records#reviews"),
        VitalSign => format!("/staff/patients/{patient_id}/records#vital-{}", entry.id),
        ContraindicationReview => {
            format!("/staff/patients/{patient_id}/records#review-{}", entry.id)
        }
        PreInfusionRisks => format!("/staff/patients/{patient_id}/records#risk-{}", entry.id),
    }
}
