//! The chart entries screening reads (SPEC §1.3; shared/clinical/screening.md):
//! problems, medications and treatments tried, allergies, list reviews, vital
//! signs, the contraindication review, pre-infusion risks and documents; and
//! the clinic's screening settings.
//!
//! Every entry says who entered it and when. Writes go through a stamped store
//! (`Store::stamped`) so that each write and its audit entry commit together.
//! [`Store::screening_facts`] gathers the entries into respite-clinical's
//! [`PatientFacts`] and keeps, beside each fact, the entry it came from, so
//! that pages can link the evidence. No clinical rule is applied here: the
//! engine judges, the store only gathers.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_clinical::screening::{
    fingerprint, ingredient_of, Allergy, Contraindication, ContraindicationReview,
    ContraindicationTier, ConventionalTreatment, Diagnosis, FreshnessWindow, Medication,
    PatientFacts, PreInfusionRisks, Professional, Qualification, Record, RecordKind,
    ScreeningSettings, StopReason, TreatmentClass, CONTRAINDICATIONS,
};
use sha2::{Digest, Sha256};

use crate::{from_millis, to_millis, Store, StoreError, StoreResult};

// ---------------------------------------------------------------------------
// Stored codes. Only the store writes and reads them; pages show words.

/// The stored code of a contraindication.
pub fn contraindication_code(c: Contraindication) -> &'static str {
    match c {
        Contraindication::PoorlyControlledCardiovascularDisease => {
            "poorly-controlled-cardiovascular-disease"
        }
        Contraindication::Pregnancy => "pregnancy",
        Contraindication::ActivePsychosis => "active-psychosis",
        Contraindication::SevereHepaticDisease => "severe-hepatic-disease",
        Contraindication::ModerateHepaticDisease => "moderate-hepatic-disease",
        Contraindication::ElevatedIntracranialPressure => "elevated-intracranial-pressure",
        Contraindication::ElevatedIntraocularPressure => "elevated-intraocular-pressure",
        Contraindication::ActiveSubstanceAbuse => "active-substance-abuse",
        Contraindication::KetamineHypersensitivity => "ketamine-hypersensitivity",
        Contraindication::SignificantBloodPressureRiseHazard => {
            "significant-blood-pressure-rise-hazard"
        }
    }
}

pub fn contraindication_from_code(code: &str) -> Option<Contraindication> {
    CONTRAINDICATIONS
        .iter()
        .map(|d| d.id)
        .find(|c| contraindication_code(*c) == code)
}

/// Every record kind, in the engine's order.
pub const RECORD_KINDS: [RecordKind; 7] = [
    RecordKind::MedicationList,
    RecordKind::Allergies,
    RecordKind::ProblemList,
    RecordKind::VitalSigns,
    RecordKind::DiagnosisLetter,
    RecordKind::Ecg,
    RecordKind::LiverFunctionTests,
];

pub fn record_kind_code(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::MedicationList => "medication-list",
        RecordKind::Allergies => "allergies",
        RecordKind::ProblemList => "problem-list",
        RecordKind::VitalSigns => "vital-signs",
        RecordKind::DiagnosisLetter => "diagnosis-letter",
        RecordKind::Ecg => "ecg",
        RecordKind::LiverFunctionTests => "liver-function-tests",
    }
}

pub fn record_kind_from_code(code: &str) -> Option<RecordKind> {
    RECORD_KINDS
        .into_iter()
        .find(|k| record_kind_code(*k) == code)
}

/// The classes of conventional care a form offers (respite-clinical's
/// [`TreatmentClass`] without `Other`, which takes the typed name).
pub const TREATMENT_CLASSES: [TreatmentClass; 10] = [
    TreatmentClass::Nsaid,
    TreatmentClass::Paracetamol,
    TreatmentClass::Opioid,
    TreatmentClass::Gabapentinoid,
    TreatmentClass::Antidepressant,
    TreatmentClass::MuscleRelaxant,
    TreatmentClass::TopicalAgent,
    TreatmentClass::Physiotherapy,
    TreatmentClass::PsychologicalTherapy,
    TreatmentClass::InterventionalProcedure,
];

pub fn treatment_class_code(class: &TreatmentClass) -> String {
    match class {
        TreatmentClass::Nsaid => "nsaid".into(),
        TreatmentClass::Paracetamol => "paracetamol".into(),
        TreatmentClass::Opioid => "opioid".into(),
        TreatmentClass::Gabapentinoid => "gabapentinoid".into(),
        TreatmentClass::Antidepressant => "antidepressant".into(),
        TreatmentClass::MuscleRelaxant => "muscle-relaxant".into(),
        TreatmentClass::TopicalAgent => "topical-agent".into(),
        TreatmentClass::Physiotherapy => "physiotherapy".into(),
        TreatmentClass::PsychologicalTherapy => "psychological-therapy".into(),
        TreatmentClass::InterventionalProcedure => "interventional-procedure".into(),
        TreatmentClass::Other(name) => format!("other:{name}"),
    }
}

pub fn treatment_class_from_code(code: &str) -> Option<TreatmentClass> {
    if let Some(name) = code.strip_prefix("other:") {
        let name = name.trim();
        return (!name.is_empty()).then(|| TreatmentClass::Other(name.to_owned()));
    }
    TREATMENT_CLASSES
        .into_iter()
        .find(|c| treatment_class_code(c) == code)
}

/// Why a treatment stopped, as stored (`other` keeps its note).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReasonCode {
    Ineffective,
    NotTolerated,
    Tolerance,
    Other,
}

impl StopReasonCode {
    pub const ALL: [StopReasonCode; 4] = [
        StopReasonCode::Ineffective,
        StopReasonCode::NotTolerated,
        StopReasonCode::Tolerance,
        StopReasonCode::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StopReasonCode::Ineffective => "ineffective",
            StopReasonCode::NotTolerated => "not-tolerated",
            StopReasonCode::Tolerance => "tolerance",
            StopReasonCode::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<StopReasonCode> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    fn to_clinical(self, note: &str) -> StopReason {
        match self {
            StopReasonCode::Ineffective => StopReason::Ineffective,
            StopReasonCode::NotTolerated => StopReason::NotTolerated,
            StopReasonCode::Tolerance => StopReason::Tolerance,
            StopReasonCode::Other => StopReason::Other(note.to_owned()),
        }
    }
}

/// The diagnosing professional's qualification, as stored.
pub fn qualification_code(q: &Qualification) -> (&'static str, &str) {
    match q {
        Qualification::Physician => ("physician", ""),
        Qualification::NursePractitioner => ("nurse-practitioner", ""),
        Qualification::PhysicianAssistant => ("physician-assistant", ""),
        Qualification::Other(other) => ("other", other.as_str()),
    }
}

pub fn qualification_from_code(code: &str, other: &str) -> Option<Qualification> {
    match code {
        "physician" => Some(Qualification::Physician),
        "nurse-practitioner" => Some(Qualification::NursePractitioner),
        "physician-assistant" => Some(Qualification::PhysicianAssistant),
        "other" if !other.trim().is_empty() => Some(Qualification::Other(other.trim().to_owned())),
        _ => None,
    }
}

/// A list a nurse can mark reviewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartList {
    Medications,
    Allergies,
    Problems,
}

impl ChartList {
    pub const ALL: [ChartList; 3] = [
        ChartList::Medications,
        ChartList::Allergies,
        ChartList::Problems,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChartList::Medications => "medications",
            ChartList::Allergies => "allergies",
            ChartList::Problems => "problems",
        }
    }

    pub fn parse(code: &str) -> Option<ChartList> {
        Self::ALL.into_iter().find(|l| l.as_str() == code)
    }

    /// The record kind the list is.
    pub fn record_kind(self) -> RecordKind {
        match self {
            ChartList::Medications => RecordKind::MedicationList,
            ChartList::Allergies => RecordKind::Allergies,
            ChartList::Problems => RecordKind::ProblemList,
        }
    }
}

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    ReferralLetter,
    OutsideRecords,
    Ecg,
    LiverFunctionTests,
    Other,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::ReferralLetter,
        DocumentKind::OutsideRecords,
        DocumentKind::Ecg,
        DocumentKind::LiverFunctionTests,
        DocumentKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::ReferralLetter => "referral-letter",
            DocumentKind::OutsideRecords => "outside-records",
            DocumentKind::Ecg => "ecg",
            DocumentKind::LiverFunctionTests => "liver-function-tests",
            DocumentKind::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<DocumentKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == code)
    }

    /// The record kind a document of this kind dates, if any.
    pub fn record_kind(self) -> Option<RecordKind> {
        match self {
            DocumentKind::ReferralLetter => Some(RecordKind::DiagnosisLetter),
            DocumentKind::Ecg => Some(RecordKind::Ecg),
            DocumentKind::LiverFunctionTests => Some(RecordKind::LiverFunctionTests),
            DocumentKind::OutsideRecords | DocumentKind::Other => None,
        }
    }
}

/// The media types a document may have (its content was checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    Pdf,
    Png,
    Jpeg,
}

impl MediaType {
    pub const ALL: [MediaType; 3] = [MediaType::Pdf, MediaType::Png, MediaType::Jpeg];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Png => "image/png",
            MediaType::Jpeg => "image/jpeg",
        }
    }

    pub fn parse(code: &str) -> Option<MediaType> {
        Self::ALL.into_iter().find(|m| m.as_str() == code)
    }
}

/// A vital sign or body measure, by LOINC (shared/clinical/codes.md, FHIR R4
/// vital-signs profile), with its UCUM unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VitalSign {
    Systolic,
    Diastolic,
    HeartRate,
    RespiratoryRate,
    OxygenSaturation,
    BodyTemperature,
    BodyWeight,
    BodyHeight,
}

impl VitalSign {
    pub const ALL: [VitalSign; 8] = [
        VitalSign::Systolic,
        VitalSign::Diastolic,
        VitalSign::HeartRate,
        VitalSign::RespiratoryRate,
        VitalSign::OxygenSaturation,
        VitalSign::BodyTemperature,
        VitalSign::BodyWeight,
        VitalSign::BodyHeight,
    ];

    /// LOINC code (codes.md: all [checked] except body temperature [to check]).
    pub fn loinc(self) -> &'static str {
        match self {
            VitalSign::Systolic => "8480-6",
            VitalSign::Diastolic => "8462-4",
            VitalSign::HeartRate => "8867-4",
            VitalSign::RespiratoryRate => "9279-1",
            VitalSign::OxygenSaturation => "59408-5",
            VitalSign::BodyTemperature => "8310-5",
            VitalSign::BodyWeight => "29463-7",
            VitalSign::BodyHeight => "8302-2",
        }
    }

    /// UCUM unit (codes.md).
    pub fn ucum(self) -> &'static str {
        match self {
            VitalSign::Systolic | VitalSign::Diastolic => "mm[Hg]",
            VitalSign::HeartRate | VitalSign::RespiratoryRate => "/min",
            VitalSign::OxygenSaturation => "%",
            VitalSign::BodyTemperature => "Cel",
            VitalSign::BodyWeight => "kg",
            VitalSign::BodyHeight => "cm",
        }
    }

    /// The LOINC display stored beside the code.
    pub fn display(self) -> &'static str {
        match self {
            VitalSign::Systolic => "Systolic blood pressure",
            VitalSign::Diastolic => "Diastolic blood pressure",
            VitalSign::HeartRate => "Heart rate",
            VitalSign::RespiratoryRate => "Respiratory rate",
            VitalSign::OxygenSaturation => "Oxygen saturation in Arterial blood by Pulse oximetry",
            VitalSign::BodyTemperature => "Body temperature",
            VitalSign::BodyWeight => "Body weight",
            VitalSign::BodyHeight => "Body height",
        }
    }

    pub fn from_loinc(code: &str) -> Option<VitalSign> {
        Self::ALL.into_iter().find(|v| v.loinc() == code)
    }
}

/// An entry that can be marked entered in error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorrectableEntry {
    Problem,
    Medication,
    Allergy,
    Document,
}

impl CorrectableEntry {
    pub const ALL: [CorrectableEntry; 4] = [
        CorrectableEntry::Problem,
        CorrectableEntry::Medication,
        CorrectableEntry::Allergy,
        CorrectableEntry::Document,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CorrectableEntry::Problem => "problem",
            CorrectableEntry::Medication => "medication",
            CorrectableEntry::Allergy => "allergy",
            CorrectableEntry::Document => "document",
        }
    }

    pub fn parse(code: &str) -> Option<CorrectableEntry> {
        Self::ALL.into_iter().find(|k| k.as_str() == code)
    }

    fn table(self) -> &'static str {
        match self {
            CorrectableEntry::Problem => "conditions",
            CorrectableEntry::Medication => "medications",
            CorrectableEntry::Allergy => "allergies",
            CorrectableEntry::Document => "chart_documents",
        }
    }
}

// ---------------------------------------------------------------------------
// Entries as read.

/// Who entered an entry and when (`None` for entries made before entries
/// were attributed, or made by the system, e.g. converted from a consultation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryAuthor {
    pub by: Option<String>,
    pub at: Option<Timestamp>,
}

/// An ICD-10-CM code of the clinic's table.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ConditionCodeRecord {
    pub code: String,
    pub display: String,
    pub snomed_ct: Option<String>,
    pub system_version: String,
    /// `checked` or `to-check` (shared/clinical/codes.md).
    pub verification: String,
}

#[derive(Clone, Debug)]
pub struct ProblemRecord {
    pub id: i64,
    pub icd10cm_code: String,
    pub display: String,
    pub snomed_ct: Option<String>,
    pub code_system_version: String,
    pub onset_date: Option<Date>,
    /// The onset was estimated (from a stated duration), not recorded.
    pub onset_estimated: bool,
    pub diagnosed_by: String,
    /// `None` when not recorded.
    pub qualification: Option<Qualification>,
    pub diagnosed_on: Option<Date>,
    /// The date the entry describes the chart as of (`None`: not recorded).
    pub recorded_on: Option<Date>,
    pub entered: EntryAuthor,
}

#[derive(Clone, Debug)]
pub struct MedicationRecord {
    pub id: i64,
    pub name: String,
    pub rxnorm_code: Option<String>,
    pub rxnorm_ingredient: Option<String>,
    pub dose: String,
    pub started_on: Option<Date>,
    pub stopped_on: Option<Date>,
    pub tried_for_days: Option<u32>,
    pub treatment_class: Option<TreatmentClass>,
    pub stop_reason: Option<StopReasonCode>,
    pub stop_reason_note: String,
    pub recorded_on: Date,
    pub entered: EntryAuthor,
}

impl MedicationRecord {
    /// Taken on `today`: started (or start unknown) and not stopped by then.
    /// A treatment recorded with why it stopped, or with how long it was
    /// tried and no dates, is past even without a stop date.
    pub fn is_current(&self, today: Date) -> bool {
        let ended_undated = self.stopped_on.is_none()
            && (self.stop_reason.is_some()
                || (self.tried_for_days.is_some() && self.started_on.is_none()));
        !ended_undated
            && self.started_on.is_none_or(|d| d <= today)
            && self.stopped_on.is_none_or(|d| d > today)
    }

    /// How long it was tried, in days: from its dates, else as stated.
    pub fn duration_days(&self) -> Option<u32> {
        match (self.started_on, self.stopped_on) {
            (Some(start), Some(stop)) => start
                .until(stop)
                .ok()
                .and_then(|span| u32::try_from(span.get_days()).ok())
                .filter(|d| *d > 0)
                .or(self.tried_for_days),
            _ => self.tried_for_days,
        }
    }
}

#[derive(Clone, Debug)]
pub struct AllergyRecord {
    pub id: i64,
    pub substance: String,
    pub rxnorm_code: Option<String>,
    pub rxnorm_ingredient: Option<String>,
    /// `allergy` or `intolerance`.
    pub kind: String,
    /// `medication`, `food`, `environment` or `biologic`.
    pub category: String,
    /// `low`, `high` or `unable-to-assess`.
    pub criticality: String,
    pub reaction: String,
    pub recorded_on: Date,
    pub entered: EntryAuthor,
}

#[derive(Clone, Debug)]
pub struct ListReviewRecord {
    pub id: i64,
    pub list: ChartList,
    pub reviewed_on: Date,
    pub entered: EntryAuthor,
}

/// One measurement of a vital sign or body measure.
#[derive(Clone, Debug)]
pub struct VitalRecord {
    pub id: i64,
    pub sign: VitalSign,
    pub observed_at: Timestamp,
    pub value: f64,
    pub entered: EntryAuthor,
}

#[derive(Clone, Debug)]
pub struct ContraindicationReviewRecord {
    pub id: i64,
    pub reviewed_on: Date,
    /// Every contraindication considered, with whether it is present.
    pub findings: Vec<(Contraindication, bool)>,
    pub note: String,
    pub entered: EntryAuthor,
}

impl ContraindicationReviewRecord {
    pub fn present(&self) -> Vec<Contraindication> {
        self.findings
            .iter()
            .filter(|(_, present)| *present)
            .map(|(c, _)| *c)
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct PreInfusionRiskRecord {
    pub id: i64,
    pub assessed_on: Date,
    pub risks: PreInfusionRisks,
    pub note: String,
    pub entered: EntryAuthor,
}

/// A document's description (without its content).
#[derive(Clone, Debug)]
pub struct DocumentRecord {
    pub id: i64,
    pub kind: DocumentKind,
    pub document_date: Date,
    pub title: String,
    pub author: String,
    pub file_name: String,
    pub media_type: MediaType,
    pub size_bytes: i64,
    pub sha256: String,
    pub entered: EntryAuthor,
}

/// A document's content, for download.
#[derive(Clone, Debug)]
pub struct DocumentContent {
    pub record: DocumentRecord,
    pub content: Vec<u8>,
}

/// Everything on the chart that screening reads.
#[derive(Clone, Debug, Default)]
pub struct ChartEntries {
    pub problems: Vec<ProblemRecord>,
    pub medications: Vec<MedicationRecord>,
    pub allergies: Vec<AllergyRecord>,
    pub list_reviews: Vec<ListReviewRecord>,
    pub vitals: Vec<VitalRecord>,
    pub contraindication_reviews: Vec<ContraindicationReviewRecord>,
    pub pre_infusion_risks: Vec<PreInfusionRiskRecord>,
    pub documents: Vec<DocumentRecord>,
}

// ---------------------------------------------------------------------------
// Entries to write.

#[derive(Clone, Debug)]
pub struct NewProblem<'a> {
    /// Must be in the clinic's table ([`Store::condition_code`]).
    pub icd10cm_code: &'a str,
    pub onset_date: Date,
    pub onset_estimated: bool,
    pub diagnosed_by: &'a str,
    pub qualification: Qualification,
    pub diagnosed_on: Date,
    pub recorded_on: Date,
}

#[derive(Clone, Debug)]
pub struct NewMedication<'a> {
    pub name: &'a str,
    /// As entered: a product or an ingredient RXCUI.
    pub rxnorm_code: Option<&'a str>,
    pub dose: &'a str,
    pub started_on: Option<Date>,
    pub stopped_on: Option<Date>,
    pub tried_for_days: Option<u32>,
    /// For a pain treatment: its class, and why it stopped.
    pub treatment_class: Option<TreatmentClass>,
    pub stop_reason: Option<StopReasonCode>,
    pub stop_reason_note: &'a str,
    pub recorded_on: Date,
}

#[derive(Clone, Debug)]
pub struct NewAllergy<'a> {
    pub substance: &'a str,
    pub rxnorm_code: Option<&'a str>,
    pub kind: &'a str,
    pub category: &'a str,
    pub criticality: &'a str,
    pub reaction: &'a str,
    pub recorded_on: Date,
}

/// One set of measurements taken together.
#[derive(Clone, Debug)]
pub struct NewVitals {
    pub observed_at: Timestamp,
    pub values: Vec<(VitalSign, f64)>,
}

#[derive(Clone, Debug)]
pub struct NewContraindicationReview<'a> {
    pub reviewed_on: Date,
    pub present: Vec<Contraindication>,
    pub note: &'a str,
}

#[derive(Clone, Debug)]
pub struct NewPreInfusionRisks<'a> {
    pub assessed_on: Date,
    pub risks: PreInfusionRisks,
    pub note: &'a str,
}

#[derive(Clone, Debug)]
pub struct NewDocument<'a> {
    pub kind: DocumentKind,
    pub document_date: Date,
    pub title: &'a str,
    pub author: &'a str,
    pub file_name: &'a str,
    /// Checked against the content by the caller.
    pub media_type: MediaType,
    pub content: &'a [u8],
}

// ---------------------------------------------------------------------------
// The facts, with their evidence.

/// The kind of chart entry a fact came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Problem,
    Medication,
    Allergy,
    ListReview,
    VitalSign,
    ContraindicationReview,
    PreInfusionRisks,
    Document,
}

/// The chart entry a fact came from: what, which, and its date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryRef {
    pub kind: EntryKind,
    pub id: i64,
    pub dated: Date,
}

/// For each fact of a [`PatientFacts`], the entry it came from. Vectors run
/// parallel to the facts' (same length, same order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FactEvidence {
    pub pain_onset: Option<EntryRef>,
    pub diagnoses: Vec<EntryRef>,
    pub records: Vec<EntryRef>,
    pub conventional_treatments: Vec<EntryRef>,
    pub medications: Vec<EntryRef>,
    pub allergies: Vec<EntryRef>,
    pub contraindication_review: Option<EntryRef>,
    pub pre_infusion_risks: Option<EntryRef>,
}

/// A patient's screening facts and where each came from.
#[derive(Clone, Debug, Default)]
pub struct ChartFacts {
    pub facts: PatientFacts,
    pub evidence: FactEvidence,
}

impl ChartFacts {
    /// The digest of the facts (respite-clinical's [`fingerprint`]).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.facts)
    }

    /// The entry that dates a record kind (the newest), if any.
    pub fn record(&self, kind: RecordKind) -> Option<(Record, EntryRef)> {
        self.facts
            .records
            .iter()
            .zip(&self.evidence.records)
            .find(|(r, _)| r.kind == kind)
            .map(|(r, e)| (*r, *e))
    }
}

/// The clinic's screening settings with who last changed them.
#[derive(Clone, Debug)]
pub struct ClinicScreeningSettings {
    pub screening: ScreeningSettings,
    /// The largest document upload accepted, in bytes.
    pub max_upload_bytes: u64,
    pub updated_by: Option<String>,
    pub updated_at: Option<Timestamp>,
}

/// The settings an admin changes.
#[derive(Clone, Debug)]
pub struct ScreeningSettingsUpdate {
    pub minimum_conventional_classes: usize,
    pub max_upload_bytes: u64,
    pub windows: Vec<(RecordKind, FreshnessWindow)>,
    pub tiers: Vec<(Contraindication, ContraindicationTier)>,
}

// ---------------------------------------------------------------------------

fn date_or_none(text: &str) -> Option<Date> {
    text.trim().parse().ok()
}

fn date(text: &str, what: &str) -> StoreResult<Date> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what}: not a date")))
}

fn author(name: Option<String>, at: Option<i64>) -> StoreResult<EntryAuthor> {
    Ok(EntryAuthor {
        by: name,
        at: at.map(from_millis).transpose()?,
    })
}

fn is_ingredient_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= 12 && code.bytes().all(|b| b.is_ascii_digit())
}

#[derive(sqlx::FromRow)]
struct ProblemRow {
    id: i64,
    icd10cm_code: String,
    display: String,
    snomed_ct: Option<String>,
    code_system_version: String,
    onset_date: String,
    onset_estimated: i64,
    diagnosed_by: String,
    diagnosed_by_qualification: String,
    qualification_other: String,
    diagnosed_on: String,
    recorded_on: String,
    entered_by: Option<String>,
    entered_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct MedicationRow {
    id: i64,
    name: String,
    rxnorm_code: Option<String>,
    rxnorm_ingredient: Option<String>,
    dose: String,
    started_on: Option<String>,
    stopped_on: Option<String>,
    tried_for_days: Option<i64>,
    treatment_class: Option<String>,
    stop_reason: Option<String>,
    stop_reason_note: String,
    recorded_on: String,
    entered_by: Option<String>,
    entered_at: i64,
}

#[derive(sqlx::FromRow)]
struct AllergyRow {
    id: i64,
    substance: String,
    rxnorm_code: Option<String>,
    rxnorm_ingredient: Option<String>,
    kind: String,
    category: String,
    criticality: String,
    reaction: String,
    recorded_on: String,
    entered_by: Option<String>,
    entered_at: i64,
}

#[derive(sqlx::FromRow)]
struct ListReviewRow {
    id: i64,
    list: String,
    reviewed_on: String,
    entered_by: Option<String>,
    entered_at: i64,
}

#[derive(sqlx::FromRow)]
struct VitalRow {
    id: i64,
    code: String,
    observed_at: i64,
    value: f64,
    entered_by: Option<String>,
    entered_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    id: i64,
    reviewed_on: String,
    note: String,
    entered_by: Option<String>,
    entered_at: i64,
}

#[derive(sqlx::FromRow)]
struct RiskRow {
    id: i64,
    assessed_on: String,
    cardiovascular_risk: i64,
    liver_risk: i64,
    high_dose_frequent: i64,
    note: String,
    entered_by: Option<String>,
    entered_at: i64,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: i64,
    kind: String,
    document_date: String,
    title: String,
    author: String,
    file_name: String,
    media_type: String,
    size_bytes: i64,
    sha256: String,
    entered_by: Option<String>,
    entered_at: i64,
}

impl DocumentRow {
    fn parse(self) -> StoreResult<DocumentRecord> {
        Ok(DocumentRecord {
            id: self.id,
            kind: DocumentKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("document {} kind", self.id)))?,
            document_date: date(&self.document_date, "document date")?,
            title: self.title,
            author: self.author,
            file_name: self.file_name,
            media_type: MediaType::parse(&self.media_type)
                .ok_or_else(|| StoreError::Corrupt(format!("document {} type", self.id)))?,
            size_bytes: self.size_bytes,
            sha256: self.sha256,
            entered: author(self.entered_by, Some(self.entered_at))?,
        })
    }
}

const DOCUMENT_COLUMNS: &str = "d.id, d.kind, d.document_date, d.title, d.author, d.file_name, \
     d.media_type, d.size_bytes, d.sha256, u.display_name AS entered_by, d.entered_at \
     FROM chart_documents d LEFT JOIN staff_users u ON u.id = d.entered_by_user_id";

/// The LOINC codes of the vital signs, for `IN (…)`.
fn vital_codes() -> String {
    VitalSign::ALL
        .iter()
        .map(|v| format!("'{}'", v.loinc()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The clinic's ICD-10-CM table.
    pub async fn condition_codes(&self) -> StoreResult<Vec<ConditionCodeRecord>> {
        Ok(sqlx::query_as(
            "SELECT code, display, snomed_ct, system_version, verification FROM condition_codes \
             ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// A code of the clinic's table, matched without regard to case.
    pub async fn condition_code(&self, code: &str) -> StoreResult<Option<ConditionCodeRecord>> {
        Ok(sqlx::query_as(
            "SELECT code, display, snomed_ct, system_version, verification FROM condition_codes \
             WHERE code = $1",
        )
        .bind(code.trim().to_ascii_uppercase())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Everything on the chart that screening reads, each kind newest first.
    pub async fn chart_entries(&self, patient_id: i64) -> StoreResult<ChartEntries> {
        let problems: Vec<ProblemRow> = sqlx::query_as(
            "SELECT c.id, c.icd10cm_code, c.display, c.snomed_ct, c.code_system_version, \
             c.onset_date, c.onset_estimated, c.diagnosed_by, c.diagnosed_by_qualification, \
             c.qualification_other, c.diagnosed_on, c.recorded_on, \
             u.display_name AS entered_by, c.entered_at \
             FROM conditions c LEFT JOIN staff_users u ON u.id = c.entered_by_user_id \
             WHERE c.patient_id = $1 AND c.entered_in_error_at IS NULL ORDER BY c.id DESC",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let problems = problems
            .into_iter()
            .map(|row| {
                Ok(ProblemRecord {
                    id: row.id,
                    icd10cm_code: row.icd10cm_code,
                    display: row.display,
                    snomed_ct: row.snomed_ct,
                    code_system_version: row.code_system_version,
                    onset_date: date_or_none(&row.onset_date),
                    onset_estimated: row.onset_estimated != 0,
                    diagnosed_by: row.diagnosed_by,
                    qualification: qualification_from_code(
                        &row.diagnosed_by_qualification,
                        &row.qualification_other,
                    ),
                    diagnosed_on: date_or_none(&row.diagnosed_on),
                    recorded_on: date_or_none(&row.recorded_on),
                    entered: author(row.entered_by, row.entered_at)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;

        let medications: Vec<MedicationRow> = sqlx::query_as(
            "SELECT m.id, m.name, m.rxnorm_code, m.rxnorm_ingredient, m.dose, m.started_on, \
             m.stopped_on, m.tried_for_days, m.treatment_class, m.stop_reason, \
             m.stop_reason_note, m.recorded_on, u.display_name AS entered_by, m.entered_at \
             FROM medications m LEFT JOIN staff_users u ON u.id = m.entered_by_user_id \
             WHERE m.patient_id = $1 AND m.entered_in_error_at IS NULL ORDER BY m.id DESC",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let medications = medications
            .into_iter()
            .map(|row| {
                let corrupt =
                    |what: &str| StoreError::Corrupt(format!("medication {}: {what}", row.id));
                Ok(MedicationRecord {
                    id: row.id,
                    started_on: row
                        .started_on
                        .as_deref()
                        .map(|d| date(d, "started_on"))
                        .transpose()?,
                    stopped_on: row
                        .stopped_on
                        .as_deref()
                        .map(|d| date(d, "stopped_on"))
                        .transpose()?,
                    tried_for_days: row
                        .tried_for_days
                        .map(|d| u32::try_from(d).map_err(|_| corrupt("tried_for_days")))
                        .transpose()?,
                    treatment_class: match row.treatment_class.as_deref() {
                        None => None,
                        Some(code) => {
                            Some(treatment_class_from_code(code).ok_or_else(|| corrupt("class"))?)
                        }
                    },
                    stop_reason: match row.stop_reason.as_deref() {
                        None => None,
                        Some(code) => Some(
                            StopReasonCode::parse(code).ok_or_else(|| corrupt("stop reason"))?,
                        ),
                    },
                    recorded_on: date(&row.recorded_on, "recorded_on")?,
                    entered: author(row.entered_by, Some(row.entered_at))?,
                    name: row.name,
                    rxnorm_code: row.rxnorm_code,
                    rxnorm_ingredient: row.rxnorm_ingredient,
                    dose: row.dose,
                    stop_reason_note: row.stop_reason_note,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;

        let allergies: Vec<AllergyRow> = sqlx::query_as(
            "SELECT a.id, a.substance, a.rxnorm_code, a.rxnorm_ingredient, a.kind, a.category, \
             a.criticality, a.reaction, a.recorded_on, u.display_name AS entered_by, a.entered_at \
             FROM allergies a LEFT JOIN staff_users u ON u.id = a.entered_by_user_id \
             WHERE a.patient_id = $1 AND a.entered_in_error_at IS NULL ORDER BY a.id DESC",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let allergies = allergies
            .into_iter()
            .map(|row| {
                Ok(AllergyRecord {
                    id: row.id,
                    recorded_on: date(&row.recorded_on, "recorded_on")?,
                    entered: author(row.entered_by, Some(row.entered_at))?,
                    substance: row.substance,
                    rxnorm_code: row.rxnorm_code,
                    rxnorm_ingredient: row.rxnorm_ingredient,
                    kind: row.kind,
                    category: row.category,
                    criticality: row.criticality,
                    reaction: row.reaction,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;

        let reviews: Vec<ListReviewRow> = sqlx::query_as(
            "SELECT r.id, r.list, r.reviewed_on, u.display_name AS entered_by, r.entered_at \
             FROM chart_list_reviews r LEFT JOIN staff_users u ON u.id = r.entered_by_user_id \
             WHERE r.patient_id = $1 ORDER BY r.reviewed_on DESC, r.id DESC",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let list_reviews = reviews
            .into_iter()
            .map(|row| {
                Ok(ListReviewRecord {
                    id: row.id,
                    list: ChartList::parse(&row.list)
                        .ok_or_else(|| StoreError::Corrupt(format!("list review {}", row.id)))?,
                    reviewed_on: date(&row.reviewed_on, "reviewed_on")?,
                    entered: author(row.entered_by, Some(row.entered_at))?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;

        let vitals: Vec<VitalRow> = sqlx::query_as(&format!(
            "SELECT o.id, o.code, o.observed_at, o.value, u.display_name AS entered_by, \
             o.entered_at FROM observations o LEFT JOIN staff_users u ON u.id = o.entered_by_user_id \
             WHERE o.patient_id = $1 AND o.code_system = 'http://loinc.org' AND o.code IN ({}) \
             ORDER BY o.observed_at DESC, o.id DESC",
            vital_codes()
        ))
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let vitals = vitals
            .into_iter()
            .filter_map(|row| {
                let sign = VitalSign::from_loinc(&row.code)?;
                Some((sign, row))
            })
            .map(|(sign, row)| {
                Ok(VitalRecord {
                    id: row.id,
                    sign,
                    observed_at: from_millis(row.observed_at)?,
                    value: row.value,
                    entered: author(row.entered_by, row.entered_at)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;

        let review_rows: Vec<ReviewRow> = sqlx::query_as(
            "SELECT r.id, r.reviewed_on, r.note, u.display_name AS entered_by, r.entered_at \
             FROM contraindication_reviews r LEFT JOIN staff_users u ON u.id = r.entered_by_user_id \
             WHERE r.patient_id = $1 ORDER BY r.reviewed_on DESC, r.id DESC",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let mut contraindication_reviews = Vec::new();
        for row in review_rows {
            let findings: Vec<(String, i64)> = sqlx::query_as(
                "SELECT contraindication, present FROM contraindication_review_findings \
                 WHERE review_id = $1",
            )
            .bind(row.id)
            .fetch_all(&self.pool)
            .await?;
            let mut findings = findings
                .into_iter()
                .map(|(code, present)| {
                    contraindication_from_code(&code)
                        .map(|c| (c, present != 0))
                        .ok_or_else(|| StoreError::Corrupt(format!("contraindication {code}")))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            findings.sort_by_key(|(c, _)| *c);
            contraindication_reviews.push(ContraindicationReviewRecord {
                id: row.id,
                reviewed_on: date(&row.reviewed_on, "reviewed_on")?,
                findings,
                note: row.note,
                entered: author(row.entered_by, Some(row.entered_at))?,
            });
        }

        let risks: Vec<RiskRow> = sqlx::query_as(
            "SELECT r.id, r.assessed_on, r.cardiovascular_risk, r.liver_risk, \
             r.high_dose_frequent, r.note, u.display_name AS entered_by, r.entered_at \
             FROM pre_infusion_risk_assessments r \
             LEFT JOIN staff_users u ON u.id = r.entered_by_user_id \
             WHERE r.patient_id = $1 ORDER BY r.assessed_on DESC, r.id DESC",
        )
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        let pre_infusion_risks = risks
            .into_iter()
            .map(|row| {
                Ok(PreInfusionRiskRecord {
                    id: row.id,
                    assessed_on: date(&row.assessed_on, "assessed_on")?,
                    risks: PreInfusionRisks {
                        cardiovascular_suspected_or_high_risk: row.cardiovascular_risk != 0,
                        liver_dysfunction_or_risk: row.liver_risk != 0,
                        high_dose_frequent_infusions_planned: row.high_dose_frequent != 0,
                    },
                    note: row.note,
                    entered: author(row.entered_by, Some(row.entered_at))?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;

        let documents = self.chart_documents(patient_id).await?;
        Ok(ChartEntries {
            problems,
            medications,
            allergies,
            list_reviews,
            vitals,
            contraindication_reviews,
            pre_infusion_risks,
            documents,
        })
    }

    /// The patient's documents (without content), newest document date first.
    pub async fn chart_documents(&self, patient_id: i64) -> StoreResult<Vec<DocumentRecord>> {
        let rows: Vec<DocumentRow> = sqlx::query_as(&format!(
            "SELECT {DOCUMENT_COLUMNS} WHERE d.patient_id = $1 \
             AND d.entered_in_error_at IS NULL ORDER BY d.document_date DESC, d.id DESC"
        ))
        .bind(patient_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(DocumentRow::parse).collect()
    }

    /// One document with its content, if it belongs to the patient.
    pub async fn chart_document(
        &self,
        patient_id: i64,
        document_id: i64,
    ) -> StoreResult<Option<DocumentContent>> {
        let row: Option<DocumentRow> = sqlx::query_as(&format!(
            "SELECT {DOCUMENT_COLUMNS} WHERE d.patient_id = $1 AND d.id = $2 \
             AND d.entered_in_error_at IS NULL"
        ))
        .bind(patient_id)
        .bind(document_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let (content,): (Vec<u8>,) =
            sqlx::query_as("SELECT content FROM chart_documents WHERE id = $1")
                .bind(document_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(Some(DocumentContent {
            record: row.parse()?,
            content,
        }))
    }

    /// A document with its content, by its own id (the download route).
    pub async fn chart_document_by_id(
        &self,
        document_id: i64,
    ) -> StoreResult<Option<DocumentContent>> {
        let patient: Option<(i64,)> =
            sqlx::query_as("SELECT patient_id FROM chart_documents WHERE id = $1")
                .bind(document_id)
                .fetch_optional(&self.pool)
                .await?;
        match patient {
            Some((patient_id,)) => self.chart_document(patient_id, document_id).await,
            None => Ok(None),
        }
    }

    /// The screening facts of a patient on `today` (dates of instants taken
    /// in `zone`, the clinic's), each with the entry it came from.
    pub async fn screening_facts(
        &self,
        patient_id: i64,
        today: Date,
        zone: &TimeZone,
    ) -> StoreResult<ChartFacts> {
        let entries = self.chart_entries(patient_id).await?;
        Ok(gather_facts(&entries, today, zone))
    }

    /// The clinic's screening settings.
    pub async fn screening_settings(&self) -> StoreResult<ClinicScreeningSettings> {
        let row: Option<(i64, i64, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT s.minimum_conventional_classes, s.max_upload_bytes, u.display_name, \
             s.updated_at FROM screening_settings s \
             LEFT JOIN staff_users u ON u.id = s.updated_by_user_id WHERE s.id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let (classes, max_upload, updated_by, updated_at) =
            row.ok_or_else(|| StoreError::Corrupt("screening settings: no row".into()))?;
        let mut screening = ScreeningSettings {
            minimum_conventional_classes: usize::try_from(classes)
                .map_err(|_| StoreError::Corrupt("minimum_conventional_classes".into()))?,
            ..ScreeningSettings::default()
        };
        let windows: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT record_kind, amount, unit FROM screening_record_windows")
                .fetch_all(&self.pool)
                .await?;
        for (kind, amount, unit) in windows {
            let Some(kind) = record_kind_from_code(&kind) else {
                continue;
            };
            let amount = u32::try_from(amount)
                .map_err(|_| StoreError::Corrupt(format!("window amount {amount}")))?;
            let window = match unit.as_str() {
                "months" => FreshnessWindow::Months(amount),
                _ => FreshnessWindow::Days(amount),
            };
            let windows = &mut screening.record_windows;
            match kind {
                RecordKind::MedicationList => windows.medication_list = window,
                RecordKind::Allergies => windows.allergies = window,
                RecordKind::ProblemList => windows.problem_list = window,
                RecordKind::VitalSigns => windows.vital_signs = window,
                RecordKind::DiagnosisLetter => windows.diagnosis_letter = window,
                RecordKind::Ecg => windows.ecg = window,
                RecordKind::LiverFunctionTests => windows.liver_function_tests = window,
            }
        }
        let tiers: Vec<(String, String)> =
            sqlx::query_as("SELECT contraindication, tier FROM screening_contraindication_tiers")
                .fetch_all(&self.pool)
                .await?;
        for (code, tier) in tiers {
            let (Some(c), Some(tier)) = (
                contraindication_from_code(&code),
                ContraindicationTier::from_code(&tier),
            ) else {
                return Err(StoreError::Corrupt(format!("tier {code}: {tier}")));
            };
            // A stored tier the engine refuses (hypersensitivity not absolute)
            // is ignored: the label's rule stands.
            let _ = screening.contraindication_tiers.set(c, tier);
        }
        Ok(ClinicScreeningSettings {
            screening,
            max_upload_bytes: u64::try_from(max_upload)
                .map_err(|_| StoreError::Corrupt("max_upload_bytes".into()))?,
            updated_by,
            updated_at: updated_at.map(from_millis).transpose()?,
        })
    }

    /// Changes the clinic's screening settings (one audited write).
    pub async fn update_screening_settings(
        &self,
        update: &ScreeningSettingsUpdate,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE screening_settings SET minimum_conventional_classes = $1, \
             max_upload_bytes = $2, updated_by_user_id = $3, updated_at = $4 WHERE id = 1",
        )
        .bind(i64::try_from(update.minimum_conventional_classes).unwrap_or(i64::MAX))
        .bind(i64::try_from(update.max_upload_bytes).unwrap_or(i64::MAX))
        .bind(by_user_id)
        .bind(to_millis(at))
        .execute(&mut *tx)
        .await?;
        for (kind, window) in &update.windows {
            let (amount, unit) = match window {
                FreshnessWindow::Days(n) => (*n, "days"),
                FreshnessWindow::Months(n) => (*n, "months"),
            };
            sqlx::query(
                "UPDATE screening_record_windows SET amount = $1, unit = $2 WHERE record_kind = $3",
            )
            .bind(i64::from(amount))
            .bind(unit)
            .bind(record_kind_code(*kind))
            .execute(&mut *tx)
            .await?;
        }
        for (c, tier) in &update.tiers {
            sqlx::query(
                "UPDATE screening_contraindication_tiers SET tier = $1 WHERE contraindication = $2",
            )
            .bind(tier.code())
            .bind(contraindication_code(*c))
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, Some("screening")).await
    }

    /// Adds a problem. The code must be in the clinic's table
    /// ([`StoreError::UnknownConditionCode`] otherwise); its display, SNOMED
    /// CT concept and release are taken from there.
    pub async fn add_problem(
        &self,
        patient_id: i64,
        problem: &NewProblem<'_>,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let Some(code) = self.condition_code(problem.icd10cm_code).await? else {
            return Err(StoreError::UnknownConditionCode(
                problem.icd10cm_code.trim().to_owned(),
            ));
        };
        let (qualification, other) = qualification_code(&problem.qualification);
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO conditions (patient_id, icd10cm_code, display, onset_date, \
             diagnosed_by, diagnosed_on, onset_estimated, snomed_ct, code_system_version, \
             diagnosed_by_qualification, qualification_other, recorded_on, \
             entered_by_user_id, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(patient_id)
        .bind(&code.code)
        .bind(&code.display)
        .bind(problem.onset_date.to_string())
        .bind(problem.diagnosed_by.trim())
        .bind(problem.diagnosed_on.to_string())
        .bind(i64::from(problem.onset_estimated))
        .bind(code.snomed_ct.clone())
        .bind(&code.system_version)
        .bind(qualification)
        .bind(other.trim())
        .bind(problem.recorded_on.to_string())
        .bind(by_user_id)
        .bind(to_millis(at))
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(id)
    }

    /// Marks an entry entered in error (never deleted: the row, who marked it,
    /// when and why stay; the chart's reads and the screening leave it out).
    /// `Ok(false)` when the patient has no such entry still in force.
    pub async fn mark_entered_in_error(
        &self,
        patient_id: i64,
        entry: CorrectableEntry,
        entry_id: i64,
        reason: &str,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        // The table name comes from the enum, never from input.
        let changed = sqlx::query(&format!(
            "UPDATE {} SET entered_in_error_at = $1, entered_in_error_by_user_id = $2, \
             entered_in_error_reason = $3 \
             WHERE id = $4 AND patient_id = $5 AND entered_in_error_at IS NULL",
            entry.table()
        ))
        .bind(to_millis(at))
        .bind(by_user_id)
        .bind(reason.trim())
        .bind(entry_id)
        .bind(patient_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(true)
    }

    /// Adds a medication or treatment, current or past.
    pub async fn add_medication(
        &self,
        patient_id: i64,
        medication: &NewMedication<'_>,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let code = medication
            .rxnorm_code
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let ingredient = code
            .map(ingredient_of)
            .filter(|c| is_ingredient_code(c))
            .map(str::to_owned);
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO medications (patient_id, name, rxnorm_code, rxnorm_ingredient, dose, \
             started_on, stopped_on, tried_for_days, treatment_class, stop_reason, \
             stop_reason_note, recorded_on, entered_by_user_id, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(patient_id)
        .bind(medication.name.trim())
        .bind(code)
        .bind(ingredient)
        .bind(medication.dose.trim())
        .bind(medication.started_on.map(|d| d.to_string()))
        .bind(medication.stopped_on.map(|d| d.to_string()))
        .bind(medication.tried_for_days.map(i64::from))
        .bind(
            medication
                .treatment_class
                .as_ref()
                .map(treatment_class_code),
        )
        .bind(medication.stop_reason.map(StopReasonCode::as_str))
        .bind(medication.stop_reason_note.trim())
        .bind(medication.recorded_on.to_string())
        .bind(by_user_id)
        .bind(to_millis(at))
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(id)
    }

    /// Records that a medication was stopped on `stopped_on` (and why, for
    /// a pain treatment). `Ok(false)` when the medication is not the patient's.
    pub async fn stop_medication(
        &self,
        patient_id: i64,
        medication_id: i64,
        stopped_on: Date,
        stop_reason: Option<StopReasonCode>,
        stop_reason_note: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE medications SET stopped_on = $1, stop_reason = COALESCE($2, stop_reason), \
             stop_reason_note = $3 WHERE id = $4 AND patient_id = $5",
        )
        .bind(stopped_on.to_string())
        .bind(stop_reason.map(StopReasonCode::as_str))
        .bind(stop_reason_note.trim())
        .bind(medication_id)
        .bind(patient_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(true)
    }

    pub async fn add_allergy(
        &self,
        patient_id: i64,
        allergy: &NewAllergy<'_>,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let code = allergy.rxnorm_code.map(str::trim).filter(|c| !c.is_empty());
        let ingredient = code
            .map(ingredient_of)
            .filter(|c| is_ingredient_code(c))
            .map(str::to_owned);
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO allergies (patient_id, substance, rxnorm_code, rxnorm_ingredient, kind, \
             category, criticality, reaction, recorded_on, entered_by_user_id, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(patient_id)
        .bind(allergy.substance.trim())
        .bind(code)
        .bind(ingredient)
        .bind(allergy.kind)
        .bind(allergy.category)
        .bind(allergy.criticality)
        .bind(allergy.reaction.trim())
        .bind(allergy.recorded_on.to_string())
        .bind(by_user_id)
        .bind(to_millis(at))
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(id)
    }

    /// Records that a list was reviewed on `reviewed_on` (e.g. no known
    /// allergies, or the medication list confirmed unchanged).
    pub async fn review_list(
        &self,
        patient_id: i64,
        list: ChartList,
        reviewed_on: Date,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO chart_list_reviews (patient_id, list, reviewed_on, entered_by_user_id, \
             entered_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(patient_id)
        .bind(list.as_str())
        .bind(reviewed_on.to_string())
        .bind(by_user_id)
        .bind(to_millis(at))
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(id)
    }

    /// Records a set of vital signs and body measures taken together.
    pub async fn add_vitals(
        &self,
        patient_id: i64,
        vitals: &NewVitals,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::new();
        for (sign, value) in &vitals.values {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO observations (patient_id, observed_at, code_system, code, display, \
                 value, unit, entered_by_user_id, entered_at) \
                 VALUES ($1, $2, 'http://loinc.org', $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(patient_id)
            .bind(to_millis(vitals.observed_at))
            .bind(sign.loinc())
            .bind(sign.display())
            .bind(*value)
            .bind(sign.ucum())
            .bind(by_user_id)
            .bind(to_millis(at))
            .fetch_one(&mut *tx)
            .await?;
            ids.push(id);
        }
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(ids)
    }

    /// Records a contraindication review: every contraindication considered,
    /// those in `present` found present.
    pub async fn add_contraindication_review(
        &self,
        patient_id: i64,
        review: &NewContraindicationReview<'_>,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO contraindication_reviews (patient_id, reviewed_on, note, \
             entered_by_user_id, entered_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(patient_id)
        .bind(review.reviewed_on.to_string())
        .bind(review.note.trim())
        .bind(by_user_id)
        .bind(to_millis(at))
        .fetch_one(&mut *tx)
        .await?;
        for definition in &CONTRAINDICATIONS {
            sqlx::query(
                "INSERT INTO contraindication_review_findings (review_id, contraindication, \
                 present) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(contraindication_code(definition.id))
            .bind(i64::from(review.present.contains(&definition.id)))
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(id)
    }

    pub async fn add_pre_infusion_risks(
        &self,
        patient_id: i64,
        risks: &NewPreInfusionRisks<'_>,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO pre_infusion_risk_assessments (patient_id, assessed_on, \
             cardiovascular_risk, liver_risk, high_dose_frequent, note, entered_by_user_id, \
             entered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(patient_id)
        .bind(risks.assessed_on.to_string())
        .bind(i64::from(risks.risks.cardiovascular_suspected_or_high_risk))
        .bind(i64::from(risks.risks.liver_dysfunction_or_risk))
        .bind(i64::from(risks.risks.high_dose_frequent_infusions_planned))
        .bind(risks.note.trim())
        .bind(by_user_id)
        .bind(to_millis(at))
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(id)
    }

    /// Stores a document and its content.
    pub async fn add_document(
        &self,
        patient_id: i64,
        document: &NewDocument<'_>,
        by_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let sha256 = hex::encode(Sha256::digest(document.content));
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO chart_documents (patient_id, kind, document_date, title, author, \
             file_name, media_type, size_bytes, sha256, content, entered_by_user_id, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(patient_id)
        .bind(document.kind.as_str())
        .bind(document.document_date.to_string())
        .bind(document.title.trim())
        .bind(document.author.trim())
        .bind(document.file_name.trim())
        .bind(document.media_type.as_str())
        .bind(i64::try_from(document.content.len()).unwrap_or(i64::MAX))
        .bind(sha256)
        .bind(document.content.to_vec())
        .bind(by_user_id)
        .bind(to_millis(at))
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, Some(&patient_id.to_string())).await?;
        Ok(id)
    }
}

/// Gathers the facts from the entries (no rule applied: the engine judges).
///
/// - pain onset: the earliest recorded onset among the problems;
/// - diagnoses: every problem;
/// - records: for each kind, the newest date (lists: entries and reviews;
///   vital signs: the older of the newest weight and the newest blood
///   pressure, both being needed; letters, ECG, liver tests: documents);
/// - conventional treatments: entries with a treatment class;
/// - medications: those current on `today`;
/// - the newest contraindication review and risk assessment.
pub fn gather_facts(entries: &ChartEntries, today: Date, zone: &TimeZone) -> ChartFacts {
    let mut facts = PatientFacts::default();
    let mut evidence = FactEvidence::default();
    let entry = |kind, id, dated| EntryRef { kind, id, dated };

    if let Some(problem) = entries
        .problems
        .iter()
        .filter(|p| p.onset_date.is_some())
        .min_by_key(|p| (p.onset_date, p.id))
    {
        if let Some(onset) = problem.onset_date {
            facts.pain_onset = Some(onset);
            evidence.pain_onset = Some(entry(EntryKind::Problem, problem.id, onset));
        }
    }
    for problem in entries.problems.iter().rev() {
        let diagnosed_by = problem
            .qualification
            .clone()
            .filter(|_| !problem.diagnosed_by.trim().is_empty())
            .map(|qualification| Professional {
                name: problem.diagnosed_by.trim().to_owned(),
                qualification,
            });
        facts.diagnoses.push(Diagnosis {
            code: problem.icd10cm_code.clone(),
            code_system_version: Some(problem.code_system_version.clone())
                .filter(|v| !v.is_empty()),
            diagnosed_by,
            diagnosed_on: problem.diagnosed_on,
        });
        let dated = problem
            .diagnosed_on
            .or(problem.recorded_on)
            .or(problem.onset_date)
            .unwrap_or(today);
        evidence
            .diagnoses
            .push(entry(EntryKind::Problem, problem.id, dated));
    }

    // Records: the newest dated entry of each kind.
    let mut newest: Vec<(RecordKind, EntryRef)> = Vec::new();
    let mut offer =
        |kind: RecordKind, candidate: EntryRef| match newest.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, best)) if (best.dated, best.id) >= (candidate.dated, candidate.id) => {}
            Some((_, best)) => *best = candidate,
            None => newest.push((kind, candidate)),
        };
    for m in &entries.medications {
        offer(
            RecordKind::MedicationList,
            entry(EntryKind::Medication, m.id, m.recorded_on),
        );
    }
    for a in &entries.allergies {
        offer(
            RecordKind::Allergies,
            entry(EntryKind::Allergy, a.id, a.recorded_on),
        );
    }
    for p in &entries.problems {
        if let Some(recorded_on) = p.recorded_on {
            offer(
                RecordKind::ProblemList,
                entry(EntryKind::Problem, p.id, recorded_on),
            );
        }
    }
    for r in &entries.list_reviews {
        offer(
            r.list.record_kind(),
            entry(EntryKind::ListReview, r.id, r.reviewed_on),
        );
    }
    for d in &entries.documents {
        if let Some(kind) = d.kind.record_kind() {
            offer(kind, entry(EntryKind::Document, d.id, d.document_date));
        }
    }
    let newest_of = |signs: &[VitalSign]| {
        entries
            .vitals
            .iter()
            .filter(|v| signs.contains(&v.sign))
            .map(|v| {
                entry(
                    EntryKind::VitalSign,
                    v.id,
                    v.observed_at.to_zoned(zone.clone()).date(),
                )
            })
            .max_by_key(|e| (e.dated, e.id))
    };
    if let (Some(weight), Some(pressure)) = (
        newest_of(&[VitalSign::BodyWeight]),
        newest_of(&[VitalSign::Systolic, VitalSign::Diastolic]),
    ) {
        offer(
            RecordKind::VitalSigns,
            if weight.dated <= pressure.dated {
                weight
            } else {
                pressure
            },
        );
    }
    newest.sort_by_key(|(kind, _)| *kind);
    for (kind, found) in newest {
        facts.records.push(Record {
            kind,
            dated: found.dated,
        });
        evidence.records.push(found);
    }

    for m in entries.medications.iter().rev() {
        if let Some(class) = &m.treatment_class {
            facts.conventional_treatments.push(ConventionalTreatment {
                name: m.name.clone(),
                class: class.clone(),
                duration_days: m.duration_days(),
                stopped_because: m.stop_reason.map(|r| r.to_clinical(&m.stop_reason_note)),
            });
            evidence.conventional_treatments.push(entry(
                EntryKind::Medication,
                m.id,
                m.stopped_on.unwrap_or(m.recorded_on),
            ));
        }
        if m.is_current(today) {
            facts.medications.push(Medication {
                name: m.name.clone(),
                rxnorm_ingredient: m
                    .rxnorm_ingredient
                    .clone()
                    .or_else(|| m.rxnorm_code.clone()),
            });
            evidence.medications.push(entry(
                EntryKind::Medication,
                m.id,
                m.started_on.unwrap_or(m.recorded_on),
            ));
        }
    }
    for a in entries.allergies.iter().rev() {
        facts.allergies.push(Allergy {
            substance: a.substance.clone(),
            rxnorm_ingredient: a
                .rxnorm_ingredient
                .clone()
                .or_else(|| a.rxnorm_code.clone()),
        });
        evidence
            .allergies
            .push(entry(EntryKind::Allergy, a.id, a.recorded_on));
    }
    if let Some(review) = entries
        .contraindication_reviews
        .iter()
        .max_by_key(|r| (r.reviewed_on, r.id))
    {
        facts.contraindication_review = Some(ContraindicationReview {
            reviewed_on: review.reviewed_on,
            present: review.present(),
        });
        evidence.contraindication_review = Some(entry(
            EntryKind::ContraindicationReview,
            review.id,
            review.reviewed_on,
        ));
    }
    if let Some(risks) = entries
        .pre_infusion_risks
        .iter()
        .max_by_key(|r| (r.assessed_on, r.id))
    {
        facts.pre_infusion_risks = risks.risks;
        evidence.pre_infusion_risks = Some(entry(
            EntryKind::PreInfusionRisks,
            risks.id,
            risks.assessed_on,
        ));
    }
    ChartFacts { facts, evidence }
}
