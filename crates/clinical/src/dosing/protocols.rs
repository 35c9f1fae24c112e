//! The protocol library, seeded from shared/clinical/dosing.md with sources and
//! evidence grades.
//!
//! A protocol is data: a clinic can add its own ([`Protocol`] has public fields) and
//! the seeded ones below can be read and reviewed in one place.

use super::units::{MgPerHour, MgPerKg, MgPerKgPerHour, Milligrams, Minutes};
use super::weight::DosingWeightBasis;

/// Racemic ketamine or S(+)-ketamine (esketamine). S-ketamine is about twice as potent
/// (shared/clinical/dosing.md), so the two are never mixed in one calculation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KetamineForm {
    Racemic,
    Esketamine,
}

/// One step of a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProtocolStep {
    /// A weight-based bolus given over a short time.
    Bolus { dose: MgPerKg, over: Minutes },
    /// A weight-based infusion at a constant rate.
    Infusion {
        rate: MgPerKgPerHour,
        duration: Minutes,
    },
}

impl ProtocolStep {
    pub fn duration(&self) -> Minutes {
        match *self {
            ProtocolStep::Bolus { over, .. } => over,
            ProtocolStep::Infusion { duration, .. } => duration,
        }
    }
}

/// What the clinic may do with a protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolUse {
    /// May be ordered and calculated (still within the clinic's ceilings).
    Orderable,
    /// Shown as evidence or reference only (inpatient, S-ketamine trial, no usable
    /// regimen): the calculator refuses it.
    ReferenceOnly,
}

/// Strength of evidence for the indication, as graded by Cohen 2018.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub condition: String,
    /// "moderate", "weak", "weak or none".
    pub strength: String,
    /// Cohen 2018 letter grade where the guideline gives one.
    pub grade: Option<char>,
    pub source: String,
}

/// Verification status of a fact, as marked in shared/clinical/.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Seen in the source text (or its abstract/registry, as the note says).
    Checked,
    /// From established knowledge, not yet seen in the primary text.
    ToCheck,
}

/// A guideline target for a first trial (Cohen 2018: at least 80 mg over more than 2 h).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrialTarget {
    pub minimum_total: Milligrams,
    /// The session must last strictly longer than this.
    pub longer_than: Minutes,
}

/// An infusion protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    pub id: String,
    pub name: String,
    pub indication: String,
    pub drug: KetamineForm,
    pub weight_basis: DosingWeightBasis,
    pub steps: Vec<ProtocolStep>,
    /// Planned session length (the steps must fit in it).
    pub session_length: Option<Minutes>,
    pub sessions_per_series: Option<u32>,
    /// Minimum whole days between the starts of two sessions.
    pub minimum_gap_days: Option<u32>,
    /// The protocol's own rate cap (mg/h), applied to the calculated rate.
    pub rate_cap: Option<MgPerHour>,
    /// The protocol's own per-session cap.
    pub session_cap: Option<Milligrams>,
    pub trial_target: Option<TrialTarget>,
    /// Co-medication given in the source (shown, not calculated).
    pub premedication: String,
    pub usage: ProtocolUse,
    pub evidence: Evidence,
    pub source: String,
    pub verification: Verification,
    pub note: String,
}

/// The protocols seeded from shared/clinical/dosing.md, in the order of its table.
pub fn seeded_protocols() -> Vec<Protocol> {
    vec![
        crps_outpatient_10_day(),
        crps_continuous_esketamine(),
        refractory_outpatient_series(),
        first_trial_guideline(),
        fibromyalgia_esketamine(),
    ]
}

/// A seeded protocol by id.
pub fn seeded_protocol(id: &str) -> Option<Protocol> {
    seeded_protocols().into_iter().find(|p| p.id == id)
}

// Cohen SP et al. Reg Anesth Pain Med 2018;43:521–546 (via shared/clinical/dosing.md,
// checked via guideline summaries): CRPS moderate evidence, grade B, relief up to 12
// weeks; spinal cord injury weak; fibromyalgia, migraine, low back pain, mixed
// neuropathic, phantom limb, PHN, ischaemic and cancer pain weak or none.
const COHEN_2018: &str = "Cohen SP et al. Reg Anesth Pain Med 2018;43:521–546";

fn crps_evidence() -> Evidence {
    Evidence {
        condition: "CRPS".into(),
        strength: "moderate (relief up to 12 weeks)".into(),
        grade: Some('B'),
        source: COHEN_2018.into(),
    }
}

/// Schwartzman RJ et al. Pain 2009;147:107–115; NCT00579085 [checked: abstract,
/// registry]: "The maximum ketamine infusion rate was 0.35 mg/kg/h, not to exceed
/// 25 mg/h over a 4 h period", daily for 10 days; ≤ 100 mg per session (25 mg/h × 4 h).
fn crps_outpatient_10_day() -> Protocol {
    Protocol {
        id: "crps-outpatient-10-day".into(),
        name: "CRPS, outpatient 10-day (Schwartzman 2009)".into(),
        indication: "complex regional pain syndrome".into(),
        drug: KetamineForm::Racemic,
        // The trial dosed per kg of body weight; it names no other basis.
        weight_basis: DosingWeightBasis::Actual,
        steps: vec![ProtocolStep::Infusion {
            rate: MgPerKgPerHour::literal(0.35), // Schwartzman 2009
            duration: Minutes::literal(240.0),   // 4 h, Schwartzman 2009
        }],
        session_length: Some(Minutes::literal(240.0)), // 4 h, Schwartzman 2009
        sessions_per_series: Some(10),                 // 10 days, Schwartzman 2009
        minimum_gap_days: Some(1),                     // daily, Schwartzman 2009
        rate_cap: Some(MgPerHour::literal(25.0)),      // "not to exceed 25 mg/h"
        session_cap: Some(Milligrams::literal(100.0)), // 25 mg/h × 4 h
        trial_target: None,
        premedication: "clonidine 0.1 mg PO and midazolam 2 mg IV × 2 (as in the trial)".into(),
        usage: ProtocolUse::Orderable,
        evidence: crps_evidence(),
        source: "Schwartzman RJ et al. Pain 2009;147:107–115; NCT00579085".into(),
        verification: Verification::Checked,
        note: "abstract and registry checked".into(),
    }
}

/// Sigtermans MJ et al. Pain 2009;145:304–311 [checked: abstract]: S(+)-ketamine, 4.2-day
/// continuous inpatient infusion titrated to effect; end dose 22.2 ± 2.0 mg/h/70 kg.
fn crps_continuous_esketamine() -> Protocol {
    Protocol {
        id: "crps-continuous-esketamine".into(),
        name: "CRPS, continuous S-ketamine (Sigtermans 2009)".into(),
        indication: "complex regional pain syndrome".into(),
        drug: KetamineForm::Esketamine,
        weight_basis: DosingWeightBasis::Actual,
        // The end dose expressed per kg: 22.2 mg/h / 70 kg ≈ 0.317 mg/kg/h (Sigtermans 2009);
        // the trial titrated to it over 4.2 days (≈ 6048 min).
        steps: vec![ProtocolStep::Infusion {
            rate: MgPerKgPerHour::literal(22.2 / 70.0),
            duration: Minutes::literal(4.2 * 24.0 * 60.0),
        }],
        session_length: Some(Minutes::literal(4.2 * 24.0 * 60.0)),
        sessions_per_series: Some(1),
        minimum_gap_days: None,
        rate_cap: None,
        session_cap: None,
        trial_target: None,
        premedication: String::new(),
        usage: ProtocolUse::ReferenceOnly,
        evidence: crps_evidence(),
        source: "Sigtermans MJ et al. Pain 2009;145:304–311".into(),
        verification: Verification::Checked,
        note: "S(+)-ketamine, inpatient, titrated: reference only, never an outpatient default"
            .into(),
    }
}

/// Patil S, Anitescu M. Pain Med 2012;13:263–269 [checked: abstract]: outpatient series
/// with midazolam and ondansetron premedication; the per-kg rate is not in the abstract.
fn refractory_outpatient_series() -> Protocol {
    Protocol {
        id: "refractory-outpatient-series".into(),
        name: "Refractory chronic pain, outpatient series (Patil 2012)".into(),
        indication: "refractory chronic pain syndromes".into(),
        drug: KetamineForm::Racemic,
        weight_basis: DosingWeightBasis::Actual,
        steps: Vec::new(), // no rate in the abstract: nothing to calculate
        session_length: None,
        sessions_per_series: None,
        minimum_gap_days: None,
        rate_cap: None,
        session_cap: None,
        trial_target: None,
        premedication: "midazolam and ondansetron".into(),
        usage: ProtocolUse::ReferenceOnly,
        evidence: Evidence {
            condition: "mixed chronic pain".into(),
            strength: "weak or none".into(),
            // Grade D as listed in a guideline summary of Cohen 2018 (guidelinecentral.com);
            // [to check] against the full text.
            grade: Some('D'),
            source: COHEN_2018.into(),
        },
        source: "Patil S, Anitescu M. Pain Med 2012;13:263–269".into(),
        verification: Verification::Checked,
        note: "retrospective series; per-kg rate not in the abstract".into(),
    }
}

/// Cohen 2018 [checked via summaries]: a first outpatient trial of at least 80 mg over
/// more than 2 h, then reassess. The guideline gives a target, not a regimen: the
/// clinician writes the steps (an orderable copy of this protocol with steps filled in)
/// and the calculator reports whether the target is met.
fn first_trial_guideline() -> Protocol {
    Protocol {
        id: "first-trial-guideline".into(),
        name: "First trial infusion (Cohen 2018 guideline)".into(),
        indication: "chronic pain, first outpatient trial".into(),
        drug: KetamineForm::Racemic,
        weight_basis: DosingWeightBasis::Actual,
        steps: Vec::new(),
        session_length: None,
        sessions_per_series: Some(1), // "then reassess before further treatment"
        minimum_gap_days: None,
        rate_cap: None,
        session_cap: None,
        trial_target: Some(TrialTarget {
            minimum_total: Milligrams::literal(80.0), // Cohen 2018
            longer_than: Minutes::literal(120.0),     // "> 2 h", Cohen 2018
        }),
        premedication: String::new(),
        usage: ProtocolUse::Orderable,
        evidence: Evidence {
            condition: "chronic pain (dose–response)".into(),
            strength: "evidence for a dose–response relationship".into(),
            grade: Some('C'),
            source: COHEN_2018.into(),
        },
        source: COHEN_2018.into(),
        verification: Verification::Checked,
        note: "checked via guideline summaries, not the full text".into(),
    }
}

/// Noppers I et al. Eur J Pain 2011;15:942–949 [checked]: S-ketamine 0.5 mg/kg over
/// 30 min, no benefit beyond the infusion vs active placebo — shown as evidence only.
fn fibromyalgia_esketamine() -> Protocol {
    Protocol {
        id: "fibromyalgia-esketamine-evidence".into(),
        name: "Fibromyalgia, S-ketamine 30 min (Noppers 2011)".into(),
        indication: "fibromyalgia".into(),
        drug: KetamineForm::Esketamine,
        weight_basis: DosingWeightBasis::Actual,
        // 0.5 mg/kg over 30 min = 1.0 mg/kg/h for 30 min (Noppers 2011).
        steps: vec![ProtocolStep::Infusion {
            rate: MgPerKgPerHour::literal(1.0),
            duration: Minutes::literal(30.0),
        }],
        session_length: Some(Minutes::literal(30.0)),
        sessions_per_series: Some(1),
        minimum_gap_days: None,
        rate_cap: None,
        session_cap: None,
        trial_target: None,
        premedication: String::new(),
        usage: ProtocolUse::ReferenceOnly,
        evidence: Evidence {
            condition: "fibromyalgia".into(),
            strength: "weak or none".into(),
            // Grade D as listed in a guideline summary of Cohen 2018 (guidelinecentral.com);
            // [to check] against the full text.
            grade: Some('D'),
            source: COHEN_2018.into(),
        },
        source: "Noppers I et al. Eur J Pain 2011;15:942–949".into(),
        verification: Verification::Checked,
        note: "no benefit beyond the infusion vs active placebo: evidence, not a default".into(),
    }
}
