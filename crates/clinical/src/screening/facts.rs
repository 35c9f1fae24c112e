//! What the clinic knows about a patient, as plain data. Anything unknown is absent
//! (`None` or an empty list): the engine reports it as missing rather than guessing.

use jiff::civil::Date;

use super::rules::{Contraindication, RecordKind};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatientFacts {
    /// When the pain began (as reported and recorded).
    pub pain_onset: Option<Date>,
    pub diagnoses: Vec<Diagnosis>,
    /// Dated records on file (the newest of each kind counts).
    pub records: Vec<Record>,
    pub conventional_treatments: Vec<ConventionalTreatment>,
    /// `None` until a clinician has reviewed the contraindications.
    pub contraindication_review: Option<ContraindicationReview>,
    /// Current medications (read with the medication list record).
    pub medications: Vec<Medication>,
    pub pre_infusion_risks: PreInfusionRisks,
    /// Recorded allergies and intolerances (a ketamine one is a contraindication).
    pub allergies: Vec<Allergy>,
}

/// An allergy or intolerance as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allergy {
    pub substance: String,
    /// RxNorm code where coded (a product code is mapped to its ingredient).
    pub rxnorm_ingredient: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// ICD-10-CM code as written ("G90.511" or "G90511").
    pub code: String,
    /// The ICD-10-CM release the code was chosen from, when known ("FY2025").
    pub code_system_version: Option<String>,
    pub diagnosed_by: Option<Professional>,
    pub diagnosed_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Professional {
    pub name: String,
    pub qualification: Qualification,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Qualification {
    Physician,
    NursePractitioner,
    PhysicianAssistant,
    /// Any other professional: a clinician judges whether they were qualified.
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub kind: RecordKind,
    pub dated: Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConventionalTreatment {
    pub name: String,
    pub class: TreatmentClass,
    /// How long it was tried.
    pub duration_days: Option<u32>,
    pub stopped_because: Option<StopReason>,
}

/// Classes of conventional care; the criterion counts distinct classes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TreatmentClass {
    Nsaid,
    Paracetamol,
    Opioid,
    Gabapentinoid,
    Antidepressant,
    MuscleRelaxant,
    TopicalAgent,
    Physiotherapy,
    PsychologicalTherapy,
    InterventionalProcedure,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    Ineffective,
    NotTolerated,
    /// Lost effect over time.
    Tolerance,
    /// Stopped for another reason (cost, access, preference): does not count.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContraindicationReview {
    pub reviewed_on: Date,
    /// Contraindications found present; empty means none found.
    pub present: Vec<Contraindication>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Medication {
    /// As written on the list ("Lorazepam 1 mg tablet").
    pub name: String,
    /// RxNorm ingredient RXCUI, where the list is coded.
    pub rxnorm_ingredient: Option<String>,
}

/// Risk findings that make pre-infusion tests required (Cohen 2018). Default: none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PreInfusionRisks {
    /// Cardiovascular disease suspected or high risk → ECG required.
    pub cardiovascular_suspected_or_high_risk: bool,
    /// Baseline liver dysfunction or risk of liver toxicity (alcohol misuse, chronic
    /// hepatitis) → liver function tests required.
    pub liver_dysfunction_or_risk: bool,
    /// High-dose frequent infusions planned → liver function tests required.
    pub high_dose_frequent_infusions_planned: bool,
}
