//! Dosing: a protocol library and a weight-based session calculator with hard ceilings.
//!
//! Input → output: a [`Protocol`] (steps in mg/kg and mg/kg/h), a [`PatientBody`], a
//! [`Vial`] and the clinic's [`DosingSettings`] → a [`SessionDose`] that shows every step
//! in mg, mg/kg, mL and mL/h, rounded to the pump's resolution; or a typed
//! [`DosingError`]. Exceeding any ceiling is an error unless the caller passes a
//! [`ClinicianOverride`] for that ceiling (clinician id and a written reason); every
//! override actually used is recorded in [`SessionDose::overrides_applied`] for audit.
//!
//! Facts and sources: shared/clinical/dosing.md. The ceilings are clinic settings whose
//! defaults are ours, derived from the guideline ranges (Cohen 2018), and shown as such.
//!
//! Not here: monitoring, discharge and the controlled-substance log (other modules), the
//! pharmacokinetic simulation (crate `respite-pk`), any I/O or clock.

pub mod protocols;
pub mod units;
pub mod weight;

mod calculation;
mod pk_plan;

pub use calculation::{
    calculate_session, check_next_session, CalculatedStep, DoseNote, SessionDose,
};
pub use pk_plan::{planned_doses, PlannedDoses, PlannedDosesError};
pub use protocols::{
    seeded_protocol, seeded_protocols, Evidence, KetamineForm, Protocol, ProtocolStep, ProtocolUse,
    TrialTarget, Verification,
};
pub use units::QuantityError;
pub use weight::{
    adjusted_body_weight, devine_ideal_body_weight, dosing_weight, DosingWeight, DosingWeightBasis,
    PatientBody, Sex,
};

use std::fmt;
use units::{Centimetres, Kilograms, MgPerHour, MgPerKg, MgPerKgPerHour, MgPerMl, Milligrams};
use units::{Millilitres, Minutes, MlPerHour};

/// The drug in hand: which ketamine and how concentrated (e.g. 10, 50 or 100 mg/mL).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vial {
    pub drug: KetamineForm,
    pub concentration: MgPerMl,
}

/// An inclusive range of plausible values for an input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlausibleRange<T> {
    pub min: T,
    pub max: T,
}

/// The pump's (and syringe's) resolution: calculated volumes and rates are rounded to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PumpSettings {
    pub rate_resolution: MlPerHour,
    pub volume_resolution: Millilitres,
}

/// Clinic-changeable dosing values. Defaults are ours, derived from the ranges in
/// shared/clinical/dosing.md (Cohen 2018), and must be shown to clinicians as such.
#[derive(Debug, Clone, PartialEq)]
pub struct DosingSettings {
    /// Per bolus, per kg of dosing weight. Default 0.35 mg/kg: the guideline's bolus
    /// "up to 0.35 mg/kg" (Cohen 2018; Schwenk 2018 uses the same for acute pain).
    pub bolus_ceiling: MgPerKg,
    /// Infusion rate per kg of dosing weight. Default 1 mg/kg/h outpatient (dosing.md;
    /// Cohen 2018 gives 0.5–2 mg/kg/h, 2 only with a clinician's override).
    pub rate_ceiling_per_kg: MgPerKgPerHour,
    /// Absolute infusion rate. Default 100 mg/h (dosing.md, ours).
    pub rate_ceiling_absolute: MgPerHour,
    /// Per session, per kg of dosing weight. Default 2 mg/kg (dosing.md, ours: Cohen 2018
    /// gives no per-session maximum).
    pub session_ceiling_per_kg: MgPerKg,
    /// Per session, absolute. Default 200 mg (dosing.md, ours).
    pub session_ceiling_absolute: Milligrams,
    /// No override may raise the per-kg rate above this. Default 2 mg/kg/h, the top of
    /// the guideline's infusion range (Cohen 2018; up to 7 mg/kg/h only in ICU settings,
    /// never outpatient).
    pub override_rate_maximum: MgPerKgPerHour,
    /// Default 0.1 mL/h and 0.1 mL (dosing.md's example pump setting).
    pub pump: PumpSettings,
    /// Input sanity, not a clinical rule: default 30–300 kg (ours, adult outpatients).
    pub plausible_weight: PlausibleRange<Kilograms>,
    /// Input sanity, not a clinical rule: default 120–230 cm (ours, adults).
    pub plausible_height: PlausibleRange<Centimetres>,
}

impl Default for DosingSettings {
    fn default() -> Self {
        Self {
            bolus_ceiling: MgPerKg::literal(0.35), // Cohen 2018 bolus ≤ 0.35 mg/kg
            rate_ceiling_per_kg: MgPerKgPerHour::literal(1.0), // dosing.md outpatient default
            rate_ceiling_absolute: MgPerHour::literal(100.0), // dosing.md, ours
            session_ceiling_per_kg: MgPerKg::literal(2.0), // dosing.md, ours
            session_ceiling_absolute: Milligrams::literal(200.0), // dosing.md, ours
            override_rate_maximum: MgPerKgPerHour::literal(2.0), // Cohen 2018 0.5–2 mg/kg/h
            pump: PumpSettings {
                rate_resolution: MlPerHour::literal(0.1), // dosing.md example
                volume_resolution: Millilitres::literal(0.1), // ours, like the pump
            },
            plausible_weight: PlausibleRange {
                min: Kilograms::literal(30.0),  // ours: input sanity
                max: Kilograms::literal(300.0), // ours: input sanity
            },
            plausible_height: PlausibleRange {
                min: Centimetres::literal(120.0), // ours: input sanity
                max: Centimetres::literal(230.0), // ours: input sanity
            },
        }
    }
}

/// The hard ceilings a calculation is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ceiling {
    BolusPerKg,
    InfusionRatePerKg,
    InfusionRateAbsolute,
    SessionPerKg,
    SessionAbsolute,
}

impl Ceiling {
    pub const ALL: [Ceiling; 5] = [
        Ceiling::BolusPerKg,
        Ceiling::InfusionRatePerKg,
        Ceiling::InfusionRateAbsolute,
        Ceiling::SessionPerKg,
        Ceiling::SessionAbsolute,
    ];

    /// The clinic's limit for this ceiling.
    pub fn limit(self, settings: &DosingSettings) -> LimitValue {
        match self {
            Ceiling::BolusPerKg => LimitValue::MgPerKg(settings.bolus_ceiling),
            Ceiling::InfusionRatePerKg => LimitValue::MgPerKgPerHour(settings.rate_ceiling_per_kg),
            Ceiling::InfusionRateAbsolute => LimitValue::MgPerHour(settings.rate_ceiling_absolute),
            Ceiling::SessionPerKg => LimitValue::MgPerKg(settings.session_ceiling_per_kg),
            Ceiling::SessionAbsolute => LimitValue::Milligrams(settings.session_ceiling_absolute),
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Ceiling::BolusPerKg | Ceiling::SessionPerKg => MgPerKg::UCUM,
            Ceiling::InfusionRatePerKg => MgPerKgPerHour::UCUM,
            Ceiling::InfusionRateAbsolute => MgPerHour::UCUM,
            Ceiling::SessionAbsolute => Milligrams::UCUM,
        }
    }
}

impl fmt::Display for Ceiling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ceiling::BolusPerKg => "bolus per kg",
            Ceiling::InfusionRatePerKg => "infusion rate per kg",
            Ceiling::InfusionRateAbsolute => "absolute infusion rate",
            Ceiling::SessionPerKg => "session total per kg",
            Ceiling::SessionAbsolute => "session total",
        })
    }
}

/// A limit or a value compared with one, in its own unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LimitValue {
    MgPerKg(MgPerKg),
    MgPerKgPerHour(MgPerKgPerHour),
    MgPerHour(MgPerHour),
    Milligrams(Milligrams),
}

impl LimitValue {
    fn number(self) -> f64 {
        match self {
            LimitValue::MgPerKg(v) => v.value(),
            LimitValue::MgPerKgPerHour(v) => v.value(),
            LimitValue::MgPerHour(v) => v.value(),
            LimitValue::Milligrams(v) => v.value(),
        }
    }

    fn unit(self) -> &'static str {
        match self {
            LimitValue::MgPerKg(_) => MgPerKg::UCUM,
            LimitValue::MgPerKgPerHour(_) => MgPerKgPerHour::UCUM,
            LimitValue::MgPerHour(_) => MgPerHour::UCUM,
            LimitValue::Milligrams(_) => Milligrams::UCUM,
        }
    }
}

impl fmt::Display for LimitValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitValue::MgPerKg(v) => v.fmt(f),
            LimitValue::MgPerKgPerHour(v) => v.fmt(f),
            LimitValue::MgPerHour(v) => v.fmt(f),
            LimitValue::Milligrams(v) => v.fmt(f),
        }
    }
}

/// A clinician's permission to exceed one ceiling, up to a raised limit, with a
/// written reason. Private fields: holding one means the id and reason are non-empty
/// and the limit's unit matches the ceiling.
#[derive(Debug, Clone, PartialEq)]
pub struct ClinicianOverride {
    ceiling: Ceiling,
    raised_limit: LimitValue,
    clinician_id: String,
    reason: String,
}

/// Why an override could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OverrideError {
    #[error("an override needs the clinician's id")]
    MissingClinicianId,
    #[error("an override needs a written reason")]
    MissingReason,
    #[error("the raised limit for the {ceiling} ceiling must be in {expected}, got {found}")]
    UnitMismatch {
        ceiling: Ceiling,
        expected: &'static str,
        found: &'static str,
    },
}

impl ClinicianOverride {
    pub fn new(
        ceiling: Ceiling,
        raised_limit: LimitValue,
        clinician_id: &str,
        reason: &str,
    ) -> Result<Self, OverrideError> {
        let clinician_id = clinician_id.trim();
        let reason = reason.trim();
        if clinician_id.is_empty() {
            return Err(OverrideError::MissingClinicianId);
        }
        if reason.is_empty() {
            return Err(OverrideError::MissingReason);
        }
        if raised_limit.unit() != ceiling.unit() {
            return Err(OverrideError::UnitMismatch {
                ceiling,
                expected: ceiling.unit(),
                found: raised_limit.unit(),
            });
        }
        Ok(Self {
            ceiling,
            raised_limit,
            clinician_id: clinician_id.to_owned(),
            reason: reason.to_owned(),
        })
    }

    pub fn ceiling(&self) -> Ceiling {
        self.ceiling
    }
    pub fn raised_limit(&self) -> LimitValue {
        self.raised_limit
    }
    pub fn clinician_id(&self) -> &str {
        &self.clinician_id
    }
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// An override that a calculation needed: the value went above the clinic's ceiling.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedOverride {
    pub granted: ClinicianOverride,
    /// The clinic's ceiling that was exceeded.
    pub ceiling_limit: LimitValue,
    /// The highest value that needed the override.
    pub value: LimitValue,
    /// The step (0-based) for per-step ceilings; `None` for session totals.
    pub step: Option<usize>,
}

/// A ceiling exceeded without (or beyond) an override.
#[derive(Debug, Clone, PartialEq)]
pub struct CeilingBreach {
    pub ceiling: Ceiling,
    /// The step (0-based) for per-step ceilings; `None` for session totals.
    pub step: Option<usize>,
    /// The limit in force (the clinic's, or the override's raised limit).
    pub limit: LimitValue,
    pub value: LimitValue,
    /// True when an override was given but the value exceeds even its raised limit.
    pub beyond_override: bool,
}

impl fmt::Display for CeilingBreach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} exceeds the limit {}",
            self.ceiling, self.value, self.limit
        )?;
        if let Some(step) = self.step {
            write!(f, " (step {})", step + 1)?;
        }
        if self.beyond_override {
            f.write_str(" raised by the clinician's override")?;
        }
        Ok(())
    }
}

/// Everything that can stop a calculation. All are the caller's input; none is a bug.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DosingError {
    #[error(transparent)]
    Quantity(#[from] QuantityError),
    #[error(transparent)]
    Override(#[from] OverrideError),
    #[error("weight {weight} is outside the plausible range {min}–{max}")]
    ImplausibleWeight {
        weight: Kilograms,
        min: Kilograms,
        max: Kilograms,
    },
    #[error("height {height} is outside the plausible range {min}–{max}")]
    ImplausibleHeight {
        height: Centimetres,
        min: Centimetres,
        max: Centimetres,
    },
    #[error("the {basis:?} dosing weight needs the patient's height and sex")]
    HeightAndSexRequired { basis: DosingWeightBasis },
    #[error("the ideal body weight for height {height} is not a positive weight")]
    IdealWeightNotPositive { height: Centimetres },
    #[error("protocol is for {protocol:?} ketamine but the vial holds {vial:?} ketamine: never mix them")]
    MixedKetamineForms {
        protocol: KetamineForm,
        vial: KetamineForm,
    },
    #[error("protocol {id} is reference only and cannot be calculated")]
    ProtocolReferenceOnly { id: String },
    #[error("protocol {id} has no steps to calculate")]
    ProtocolHasNoSteps { id: String },
    #[error("the steps last {steps}, longer than the session length {session}")]
    StepsLongerThanSession { steps: Minutes, session: Minutes },
    #[error("step {step} rounds to nothing at the pump's resolution")]
    RoundsToZero { step: usize },
    #[error("setting {setting} must be greater than zero")]
    SettingNotPositive { setting: &'static str },
    #[error("an override for the {ceiling} ceiling must raise it above {ceiling_limit}, got {requested}")]
    OverrideDoesNotRaise {
        ceiling: Ceiling,
        ceiling_limit: LimitValue,
        requested: LimitValue,
    },
    #[error("no override may raise the {ceiling} ceiling above {maximum}, got {requested}")]
    OverrideBeyondMaximum {
        ceiling: Ceiling,
        maximum: LimitValue,
        requested: LimitValue,
    },
    #[error("two overrides given for the {ceiling} ceiling")]
    DuplicateOverride { ceiling: Ceiling },
    #[error("ceiling exceeded: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    CeilingsExceeded(Vec<CeilingBreach>),
    #[error("session total {total} exceeds the protocol's own cap {cap}")]
    ProtocolSessionCapExceeded { total: Milligrams, cap: Milligrams },
    #[error("the series is complete: {done} of {per_series} sessions given")]
    SeriesComplete { done: u32, per_series: u32 },
    #[error(
        "only {days} days since the last session; the protocol's minimum gap is {minimum} days"
    )]
    GapTooShort { days: i32, minimum: u32 },
    #[error("the planned session date is before a recorded session")]
    SessionBeforePrevious,
}
