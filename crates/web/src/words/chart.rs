//! Words for the chart pages: the kinds of entries, their codes, units and
//! freshness, as a nurse or clinician reads them.

use jiff::civil::Date;
use respite_clinical::screening::rules::{contraindication, record_requirement};
use respite_clinical::screening::{
    Contraindication, ContraindicationTier, Freshness, FreshnessWindow, Qualification, RecordKind,
    TreatmentClass,
};
use respite_store::chart::{DocumentKind, EntryAuthor, MediaType, StopReasonCode, VitalSign};

/// "physician", "nurse practitioner", … or "qualification not recorded".
pub fn qualification(q: Option<&Qualification>) -> String {
    match q {
        Some(Qualification::Physician) => "physician".into(),
        Some(Qualification::NursePractitioner) => "nurse practitioner".into(),
        Some(Qualification::PhysicianAssistant) => "physician assistant".into(),
        Some(Qualification::Other(other)) => other.clone(),
        None => "qualification not recorded".into(),
    }
}

/// The qualifications a form offers: (code, words).
pub const QUALIFICATIONS: [(&str, &str); 4] = [
    ("physician", "Physician (MD, DO)"),
    ("nurse-practitioner", "Nurse practitioner"),
    ("physician-assistant", "Physician assistant"),
    ("other", "Other (say which)"),
];

pub fn treatment_class(class: &TreatmentClass) -> String {
    match class {
        TreatmentClass::Nsaid => "NSAID".into(),
        TreatmentClass::Paracetamol => "paracetamol (acetaminophen)".into(),
        TreatmentClass::Opioid => "opioid".into(),
        TreatmentClass::Gabapentinoid => "gabapentinoid".into(),
        TreatmentClass::Antidepressant => "antidepressant (e.g. SNRI, tricyclic)".into(),
        TreatmentClass::MuscleRelaxant => "muscle relaxant".into(),
        TreatmentClass::TopicalAgent => "topical agent".into(),
        TreatmentClass::Physiotherapy => "physiotherapy".into(),
        TreatmentClass::PsychologicalTherapy => "psychological therapy (e.g. CBT)".into(),
        TreatmentClass::InterventionalProcedure => {
            "interventional procedure (e.g. nerve block)".into()
        }
        TreatmentClass::Other(name) => name.clone(),
    }
}

pub fn stop_reason(reason: StopReasonCode, note: &str) -> String {
    match reason {
        StopReasonCode::Ineffective => "ineffective".into(),
        StopReasonCode::NotTolerated => "not tolerated".into(),
        StopReasonCode::Tolerance => "lost effect (tolerance)".into(),
        StopReasonCode::Other if note.trim().is_empty() => "another reason".into(),
        StopReasonCode::Other => format!("another reason: {}", note.trim()),
    }
}

pub fn stop_reason_option(reason: StopReasonCode) -> &'static str {
    match reason {
        StopReasonCode::Ineffective => "Ineffective",
        StopReasonCode::NotTolerated => "Not tolerated (side effects)",
        StopReasonCode::Tolerance => "Lost effect (tolerance)",
        StopReasonCode::Other => "Another reason (does not count as tried and failed)",
    }
}

pub fn document_kind(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::ReferralLetter => "referral / diagnosis letter",
        DocumentKind::OutsideRecords => "outside records",
        DocumentKind::Ecg => "ECG report",
        DocumentKind::LiverFunctionTests => "liver function tests",
        DocumentKind::Other => "other document",
    }
}

pub fn media_type(media: MediaType) -> &'static str {
    match media {
        MediaType::Pdf => "PDF",
        MediaType::Png => "PNG image",
        MediaType::Jpeg => "JPEG image",
    }
}

/// A size in bytes as people read it: "850 KB", "2.4 MB" (1 MB = 1024 × 1024 bytes, "MiB"
/// on the settings page).
pub fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes < KIB {
        format!("{bytes} bytes")
    } else if bytes < MIB {
        format!("{} KB", bytes.div_ceil(KIB))
    } else {
        format!("{:.1} MB", bytes as f64 / MIB as f64)
    }
}

/// The label of a vital sign on a form and in a table.
pub fn vital_sign(sign: VitalSign) -> &'static str {
    match sign {
        VitalSign::Systolic => "Systolic blood pressure",
        VitalSign::Diastolic => "Diastolic blood pressure",
        VitalSign::HeartRate => "Heart rate",
        VitalSign::RespiratoryRate => "Respiratory rate",
        VitalSign::OxygenSaturation => "Oxygen saturation (SpO₂)",
        VitalSign::BodyTemperature => "Temperature",
        VitalSign::BodyWeight => "Weight",
        VitalSign::BodyHeight => "Height",
    }
}

/// The unit of a vital sign as people write it (the stored unit is UCUM).
pub fn vital_unit(sign: VitalSign) -> &'static str {
    match sign {
        VitalSign::Systolic | VitalSign::Diastolic => "mm Hg",
        VitalSign::HeartRate => "beats/min",
        VitalSign::RespiratoryRate => "breaths/min",
        VitalSign::OxygenSaturation => "%",
        VitalSign::BodyTemperature => "°C",
        VitalSign::BodyWeight => "kg",
        VitalSign::BodyHeight => "cm",
    }
}

/// A measured value with its unit: "72 beats/min", "70.5 kg".
pub fn vital_value(sign: VitalSign, value: f64) -> String {
    let number = match sign {
        VitalSign::BodyWeight | VitalSign::BodyTemperature | VitalSign::BodyHeight => {
            trim_number(format!("{value:.1}"))
        }
        _ => format!("{value:.0}"),
    };
    format!("{number} {}", vital_unit(sign))
}

/// Body-mass index from weight and height, as shown beside them:
/// "BMI 24.2 kg/m²" (weight / height², WHO definition).
pub fn bmi(weight_kg: f64, height_cm: f64) -> Option<String> {
    if weight_kg <= 0.0 || height_cm <= 0.0 {
        return None;
    }
    let metres = height_cm / 100.0;
    Some(format!("BMI {:.1} kg/m²", weight_kg / (metres * metres)))
}

fn trim_number(text: String) -> String {
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

pub fn allergy_kind(code: &str) -> &'static str {
    match code {
        "intolerance" => "intolerance",
        _ => "allergy",
    }
}

pub fn allergy_category(code: &str) -> &'static str {
    match code {
        "food" => "food",
        "environment" => "environment",
        "biologic" => "biologic",
        _ => "medication",
    }
}

pub fn criticality(code: &str) -> &'static str {
    match code {
        "high" => "high risk",
        "low" => "low risk",
        _ => "risk not assessed",
    }
}

/// What a record kind is called.
pub fn record_kind(kind: RecordKind) -> &'static str {
    record_requirement(kind).name
}

pub fn window(window: FreshnessWindow) -> String {
    match window {
        FreshnessWindow::Days(1) => "1 day".into(),
        FreshnessWindow::Days(n) => format!("{n} days"),
        FreshnessWindow::Months(1) => "1 month".into(),
        FreshnessWindow::Months(n) => format!("{n} months"),
    }
}

/// How current a record is, e.g. "current until 2026-08-18" or
/// "stale since 2026-05-02".
pub fn freshness(freshness: Freshness) -> String {
    match freshness {
        Freshness::Current { until } => format!("current until {until}"),
        Freshness::Stale { until } => {
            format!("stale since {}", until.tomorrow().unwrap_or(until))
        }
        Freshness::DatedInFuture => "dated after today: correct the date".into(),
    }
}

/// The CSS class of a freshness badge.
pub fn freshness_class(freshness: Option<Freshness>) -> &'static str {
    match freshness {
        Some(Freshness::Current { .. }) => "badge current",
        Some(Freshness::Stale { .. }) => "badge stale",
        Some(Freshness::DatedInFuture) | None => "badge missing",
    }
}

/// The badge's word: "current", "stale", "missing".
pub fn freshness_badge(freshness: Option<Freshness>) -> &'static str {
    match freshness {
        Some(Freshness::Current { .. }) => "current",
        Some(Freshness::Stale { .. }) => "stale",
        Some(Freshness::DatedInFuture) => "date to correct",
        None => "missing",
    }
}

pub fn contraindication_name(c: Contraindication) -> &'static str {
    contraindication(c).name
}

pub fn tier(tier: ContraindicationTier) -> &'static str {
    match tier {
        ContraindicationTier::Absolute => "absolute: not eligible, no override",
        ContraindicationTier::NotEligibleUnlessOverridden => {
            "not eligible unless a clinician overrides with a reason"
        }
        ContraindicationTier::ReferForClinicianReview => "refer for clinician review",
    }
}

/// "Nora Nurse, 2026-05-27 09:30", or "not attributed" for entries from
/// before entries were attributed (or made from a consultation note).
pub fn entered(author: &EntryAuthor, time: impl Fn(jiff::Timestamp) -> String) -> String {
    match (&author.by, author.at) {
        (Some(by), Some(at)) => format!("{by}, {}", time(at)),
        (None, Some(at)) => format!("system, {}", time(at)),
        (Some(by), None) => by.clone(),
        (None, None) => "not attributed".into(),
    }
}

/// An optional date, or a dash.
pub fn date_or_dash(date: Option<Date>) -> String {
    date.map_or_else(|| "—".to_owned(), |d| d.to_string())
}
