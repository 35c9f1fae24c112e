//! The weight-based session calculation and the series schedule check.

use jiff::civil::Date;

use super::protocols::{KetamineForm, Protocol, ProtocolStep, ProtocolUse, TrialTarget};
use super::units::{Kilograms, MgPerHour, MgPerKg, MgPerKgPerHour, MgPerMl, Milligrams};
use super::units::{Millilitres, Minutes, MlPerHour};
use super::weight::{dosing_weight, DosingWeight, PatientBody};
use super::{
    AppliedOverride, Ceiling, CeilingBreach, ClinicianOverride, DosingError, DosingSettings,
    LimitValue, PumpSettings, Vial,
};

/// A calculated session: every step in mg, mg/kg, mL and mL/h, as delivered after
/// rounding to the pump's resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionDose {
    pub protocol_id: String,
    pub drug: KetamineForm,
    pub vial: Vial,
    pub dosing_weight: DosingWeight,
    pub steps: Vec<CalculatedStep>,
    /// Total drug over the session, as delivered.
    pub total: Milligrams,
    /// Total per kg of dosing weight.
    pub total_per_kg: MgPerKg,
    pub total_volume: Millilitres,
    /// Sum of the steps' durations.
    pub duration: Minutes,
    /// The clinic's ceilings in force for this patient (per-kg ones as set; the
    /// session's absolute limit is the lower of the two session ceilings).
    pub ceilings: Vec<(Ceiling, LimitValue)>,
    /// Overrides the calculation needed, for the audit log and the session record.
    pub overrides_applied: Vec<AppliedOverride>,
    pub notes: Vec<DoseNote>,
}

/// One calculated step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CalculatedStep {
    Bolus {
        prescribed: MgPerKg,
        /// Delivered amount (volume × concentration).
        dose: Milligrams,
        dose_per_kg: MgPerKg,
        volume: Millilitres,
        over: Minutes,
    },
    Infusion {
        prescribed: MgPerKgPerHour,
        /// Delivered rate (pump rate × concentration).
        rate: MgPerHour,
        rate_per_kg: MgPerKgPerHour,
        pump_rate: MlPerHour,
        duration: Minutes,
        amount: Milligrams,
        volume: Millilitres,
    },
}

impl CalculatedStep {
    pub fn amount(&self) -> Milligrams {
        match *self {
            CalculatedStep::Bolus { dose, .. } => dose,
            CalculatedStep::Infusion { amount, .. } => amount,
        }
    }
    pub fn volume(&self) -> Millilitres {
        match *self {
            CalculatedStep::Bolus { volume, .. } => volume,
            CalculatedStep::Infusion { volume, .. } => volume,
        }
    }
}

/// Things the clinician should see beside the numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DoseNote {
    /// The protocol's own rate cap lowered the weight-based rate (e.g. 25 mg/h).
    ProtocolRateCapApplied {
        step: usize,
        uncapped: MgPerHour,
        cap: MgPerHour,
    },
    /// Rounding to nearest would have crossed a limit, so the step was rounded down.
    RoundedDown { step: usize },
    /// Ideal/adjusted weight exceeded actual weight; actual weight was used.
    DosingWeightLimitedToActual,
    /// Height below 5 ft: the Devine formula was extrapolated.
    HeightBelowDevineRange,
    /// The protocol's trial target (Cohen 2018: ≥ 80 mg over > 2 h) and whether it is met.
    TrialTarget { target: TrialTarget, met: bool },
}

// Comparisons allow one part in 10⁹ for binary floating point (0.1 mL/h steps are not
// exact in binary); far below any clinical meaning.
const RELATIVE_TOLERANCE: f64 = 1e-9;

fn exceeds(value: f64, limit: f64) -> bool {
    value > limit * (1.0 + RELATIVE_TOLERANCE)
}

/// Rounds `value` to a multiple of `step`, to the nearest, unless that would cross
/// `limit` while `value` itself does not: then down. Returns the value and whether
/// it was rounded down for the limit.
fn round_to_resolution(value: f64, step: f64, limit: f64) -> (f64, bool) {
    let nearest = (value / step).round() * step;
    if exceeds(nearest, limit) && !exceeds(value, limit) {
        // Floor with tolerance so 2.4999999 steps count as 2.5 exactly.
        let floored = ((value / step) * (1.0 + RELATIVE_TOLERANCE)).floor() * step;
        let floored = if exceeds(floored, limit) {
            floored - step
        } else {
            floored
        };
        return (floored.max(0.0), true);
    }
    (nearest, false)
}

/// Calculates one session of `protocol` for a patient, from `vial`, against the clinic's
/// ceilings; `overrides` lets a clinician raise named ceilings (each use is recorded).
pub fn calculate_session(
    protocol: &Protocol,
    body: &PatientBody,
    vial: Vial,
    settings: &DosingSettings,
    overrides: &[ClinicianOverride],
) -> Result<SessionDose, DosingError> {
    check_protocol_vial_and_pump(protocol, vial, settings)?;
    let limits = Limits::new(settings, overrides)?;
    let duration = session_duration(protocol)?;
    let weight = dosing_weight(body, protocol.weight_basis)?;
    let mut notes = weight_notes(&weight);
    let context = StepContext {
        kg: weight.weight,
        concentration: vial.concentration,
        limits: &limits,
        pump: settings.pump,
        rate_cap: protocol.rate_cap,
    };
    let steps = protocol
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| context.calculate(index, *step, &mut notes))
        .collect::<Result<Vec<_>, _>>()?;
    let (total, total_volume) = totals(&steps);
    let total_per_kg = total / weight.weight;

    let overrides_applied = limits.check(settings, &steps, total, total_per_kg)?;
    if let Some(cap) = protocol.session_cap {
        if exceeds(total.value(), cap.value()) {
            return Err(DosingError::ProtocolSessionCapExceeded { total, cap });
        }
    }
    if let Some(target) = protocol.trial_target {
        let met = !exceeds(target.minimum_total.value(), total.value())
            && duration.value() > target.longer_than.value();
        notes.push(DoseNote::TrialTarget { target, met });
    }

    Ok(SessionDose {
        protocol_id: protocol.id.clone(),
        drug: protocol.drug,
        vial,
        ceilings: ceilings_in_force(settings, weight.weight),
        dosing_weight: weight,
        steps,
        total,
        total_per_kg,
        total_volume,
        duration,
        overrides_applied,
        notes,
    })
}

/// The protocol fits the vial and may be calculated; the pump's resolutions are usable.
fn check_protocol_vial_and_pump(
    protocol: &Protocol,
    vial: Vial,
    settings: &DosingSettings,
) -> Result<(), DosingError> {
    if protocol.drug != vial.drug {
        return Err(DosingError::MixedKetamineForms {
            protocol: protocol.drug,
            vial: vial.drug,
        });
    }
    if protocol.usage == ProtocolUse::ReferenceOnly {
        return Err(DosingError::ProtocolReferenceOnly {
            id: protocol.id.clone(),
        });
    }
    if protocol.steps.is_empty() {
        return Err(DosingError::ProtocolHasNoSteps {
            id: protocol.id.clone(),
        });
    }
    if settings.pump.rate_resolution.value() <= 0.0 {
        return Err(DosingError::SettingNotPositive {
            setting: "pump.rate_resolution",
        });
    }
    if settings.pump.volume_resolution.value() <= 0.0 {
        return Err(DosingError::SettingNotPositive {
            setting: "pump.volume_resolution",
        });
    }
    Ok(())
}

/// The steps' durations added up, within the protocol's session length if it has one.
fn session_duration(protocol: &Protocol) -> Result<Minutes, DosingError> {
    let Some((first_step, later_steps)) = protocol.steps.split_first() else {
        return Err(DosingError::ProtocolHasNoSteps {
            id: protocol.id.clone(),
        });
    };
    let mut duration = first_step.duration();
    for step in later_steps {
        duration = duration + step.duration();
    }
    if let Some(session) = protocol.session_length {
        if exceeds(duration.value(), session.value()) {
            return Err(DosingError::StepsLongerThanSession {
                steps: duration,
                session,
            });
        }
    }
    Ok(duration)
}

/// What the clinician should know about how the dosing weight was found.
fn weight_notes(weight: &DosingWeight) -> Vec<DoseNote> {
    let mut notes = Vec::new();
    if weight.limited_to_actual {
        notes.push(DoseNote::DosingWeightLimitedToActual);
    }
    if weight.height_below_devine_range {
        notes.push(DoseNote::HeightBelowDevineRange);
    }
    notes
}

/// What every step of one session is calculated with.
struct StepContext<'a> {
    kg: Kilograms,
    concentration: MgPerMl,
    limits: &'a Limits<'a>,
    pump: PumpSettings,
    rate_cap: Option<MgPerHour>,
}

impl StepContext<'_> {
    fn calculate(
        &self,
        index: usize,
        step: ProtocolStep,
        notes: &mut Vec<DoseNote>,
    ) -> Result<CalculatedStep, DosingError> {
        match step {
            ProtocolStep::Bolus { dose, over } => self.bolus(index, dose, over, notes),
            ProtocolStep::Infusion { rate, duration } => {
                self.infusion(index, rate, duration, notes)
            }
        }
    }

    /// A bolus: mg/kg × kg, as a volume rounded to the syringe's resolution (down if
    /// nearest would cross the bolus ceiling).
    fn bolus(
        &self,
        index: usize,
        dose: MgPerKg,
        over: Minutes,
        notes: &mut Vec<DoseNote>,
    ) -> Result<CalculatedStep, DosingError> {
        let (kg, concentration) = (self.kg, self.concentration);
        let amount = dose * kg; // mg = mg/kg × kg
        let exact_volume = amount / concentration; // mL = mg ÷ mg/mL
        let limit_volume = (self.limits.bolus_per_kg * kg) / concentration;
        let (volume, rounded_down) = round_to_resolution(
            exact_volume.value(),
            self.pump.volume_resolution.value(),
            limit_volume.value(),
        );
        if rounded_down {
            notes.push(DoseNote::RoundedDown { step: index });
        }
        let volume = Millilitres::new(volume)?;
        if volume.value() == 0.0 {
            return Err(DosingError::RoundsToZero { step: index + 1 });
        }
        let delivered = volume * concentration;
        Ok(CalculatedStep::Bolus {
            prescribed: dose,
            dose: delivered,
            dose_per_kg: delivered / kg,
            volume,
            over,
        })
    }

    /// An infusion: mg/kg/h × kg, lowered to the protocol's own rate cap, as a pump rate
    /// rounded to the pump's resolution (down if nearest would cross a rate ceiling).
    fn infusion(
        &self,
        index: usize,
        rate: MgPerKgPerHour,
        duration: Minutes,
        notes: &mut Vec<DoseNote>,
    ) -> Result<CalculatedStep, DosingError> {
        let (kg, concentration) = (self.kg, self.concentration);
        let uncapped = rate * kg; // mg/h = mg/kg/h × kg
        let mut rate_mg_h = uncapped;
        let mut limit_mg_h = (self.limits.rate_per_kg * kg)
            .value()
            .min(self.limits.rate_absolute);
        if let Some(cap) = self.rate_cap {
            limit_mg_h = limit_mg_h.min(cap.value());
            if exceeds(uncapped.value(), cap.value()) {
                rate_mg_h = cap;
                notes.push(DoseNote::ProtocolRateCapApplied {
                    step: index,
                    uncapped,
                    cap,
                });
            }
        }
        let exact_pump = rate_mg_h / concentration; // mL/h = mg/h ÷ mg/mL
        let (pump, rounded_down) = round_to_resolution(
            exact_pump.value(),
            self.pump.rate_resolution.value(),
            limit_mg_h / concentration.value(),
        );
        if rounded_down {
            notes.push(DoseNote::RoundedDown { step: index });
        }
        let pump_rate = MlPerHour::new(pump)?;
        if pump_rate.value() == 0.0 {
            return Err(DosingError::RoundsToZero { step: index + 1 });
        }
        let delivered = pump_rate * concentration; // mg/h = mL/h × mg/mL
        Ok(CalculatedStep::Infusion {
            prescribed: rate,
            rate: delivered,
            rate_per_kg: delivered / kg,
            pump_rate,
            duration,
            amount: delivered * duration, // mg = mg/h × min ÷ 60
            volume: pump_rate * duration,
        })
    }
}

/// The session's total drug and volume, as delivered.
fn totals(steps: &[CalculatedStep]) -> (Milligrams, Millilitres) {
    let mut total = Milligrams::literal(0.0);
    let mut total_volume = Millilitres::literal(0.0);
    for step in steps {
        total = total + step.amount();
        total_volume = total_volume + step.volume();
    }
    (total, total_volume)
}

/// The clinic's ceilings in force for this patient: per-kg ones as set; the session's
/// absolute limit is the lower of the two session ceilings.
fn ceilings_in_force(settings: &DosingSettings, kg: Kilograms) -> Vec<(Ceiling, LimitValue)> {
    let session_absolute = settings
        .session_ceiling_absolute
        .value()
        .min((settings.session_ceiling_per_kg * kg).value());
    vec![
        (Ceiling::BolusPerKg, Ceiling::BolusPerKg.limit(settings)),
        (
            Ceiling::InfusionRatePerKg,
            Ceiling::InfusionRatePerKg.limit(settings),
        ),
        (
            Ceiling::InfusionRateAbsolute,
            Ceiling::InfusionRateAbsolute.limit(settings),
        ),
        (Ceiling::SessionPerKg, Ceiling::SessionPerKg.limit(settings)),
        (
            Ceiling::SessionAbsolute,
            LimitValue::Milligrams(Milligrams::literal(session_absolute)),
        ),
    ]
}

/// Checks that one more session of `protocol` may be given on `planned`, given the
/// dates of the sessions already given in the current series.
pub fn check_next_session(
    protocol: &Protocol,
    previous_in_series: &[Date],
    planned: Date,
) -> Result<(), DosingError> {
    if previous_in_series.iter().any(|d| *d > planned) {
        return Err(DosingError::SessionBeforePrevious);
    }
    let done = u32::try_from(previous_in_series.len()).unwrap_or(u32::MAX);
    if let Some(per_series) = protocol.sessions_per_series {
        if done >= per_series {
            return Err(DosingError::SeriesComplete { done, per_series });
        }
    }
    if let (Some(minimum), Some(last)) =
        (protocol.minimum_gap_days, previous_in_series.iter().max())
    {
        // Whole calendar days between the two dates. `since` fails only beyond jiff's
        // date range, which two valid dates cannot reach; treat that as a long gap.
        let days = planned
            .since(*last)
            .map(|span| span.get_days())
            .unwrap_or(i32::MAX);
        if i64::from(days) < i64::from(minimum) {
            return Err(DosingError::GapTooShort { days, minimum });
        }
    }
    Ok(())
}

/// The limits in force after overrides, and the overrides by ceiling.
struct Limits<'a> {
    bolus_per_kg: MgPerKg,
    rate_per_kg: MgPerKgPerHour,
    rate_absolute: f64,
    by_ceiling: Vec<(Ceiling, &'a ClinicianOverride)>,
}

impl<'a> Limits<'a> {
    fn new(
        settings: &DosingSettings,
        overrides: &'a [ClinicianOverride],
    ) -> Result<Self, DosingError> {
        let mut by_ceiling: Vec<(Ceiling, &ClinicianOverride)> = Vec::new();
        for granted in overrides {
            let ceiling = granted.ceiling();
            if by_ceiling.iter().any(|(c, _)| *c == ceiling) {
                return Err(DosingError::DuplicateOverride { ceiling });
            }
            let clinic = ceiling.limit(settings);
            let requested = granted.raised_limit();
            if !exceeds(requested.number(), clinic.number()) {
                return Err(DosingError::OverrideDoesNotRaise {
                    ceiling,
                    ceiling_limit: clinic,
                    requested,
                });
            }
            if ceiling == Ceiling::InfusionRatePerKg
                && exceeds(requested.number(), settings.override_rate_maximum.value())
            {
                return Err(DosingError::OverrideBeyondMaximum {
                    ceiling,
                    maximum: LimitValue::MgPerKgPerHour(settings.override_rate_maximum),
                    requested,
                });
            }
            by_ceiling.push((ceiling, granted));
        }
        let limit = |ceiling: Ceiling| -> f64 {
            by_ceiling
                .iter()
                .find(|(c, _)| *c == ceiling)
                .map(|(_, o)| o.raised_limit().number())
                .unwrap_or_else(|| ceiling.limit(settings).number())
        };
        Ok(Self {
            bolus_per_kg: MgPerKg::literal(limit(Ceiling::BolusPerKg)),
            rate_per_kg: MgPerKgPerHour::literal(limit(Ceiling::InfusionRatePerKg)),
            rate_absolute: limit(Ceiling::InfusionRateAbsolute),
            by_ceiling,
        })
    }

    fn granted(&self, ceiling: Ceiling) -> Option<&'a ClinicianOverride> {
        self.by_ceiling
            .iter()
            .find(|(c, _)| *c == ceiling)
            .map(|(_, o)| *o)
    }

    /// Compares every delivered value with its ceiling; returns the overrides used, or
    /// every breach at once.
    fn check(
        &self,
        settings: &DosingSettings,
        steps: &[CalculatedStep],
        total: Milligrams,
        total_per_kg: MgPerKg,
    ) -> Result<Vec<AppliedOverride>, DosingError> {
        let mut values: Vec<(Ceiling, Option<usize>, LimitValue)> = Vec::new();
        for (index, step) in steps.iter().enumerate() {
            match *step {
                CalculatedStep::Bolus { dose_per_kg, .. } => {
                    values.push((
                        Ceiling::BolusPerKg,
                        Some(index),
                        LimitValue::MgPerKg(dose_per_kg),
                    ));
                }
                CalculatedStep::Infusion {
                    rate, rate_per_kg, ..
                } => {
                    values.push((
                        Ceiling::InfusionRatePerKg,
                        Some(index),
                        LimitValue::MgPerKgPerHour(rate_per_kg),
                    ));
                    values.push((
                        Ceiling::InfusionRateAbsolute,
                        Some(index),
                        LimitValue::MgPerHour(rate),
                    ));
                }
            }
        }
        values.push((
            Ceiling::SessionPerKg,
            None,
            LimitValue::MgPerKg(total_per_kg),
        ));
        values.push((
            Ceiling::SessionAbsolute,
            None,
            LimitValue::Milligrams(total),
        ));

        let mut applied = Vec::new();
        let mut breaches = Vec::new();
        for (ceiling, step, value) in values {
            let clinic = ceiling.limit(settings);
            if !exceeds(value.number(), clinic.number()) {
                continue;
            }
            match self.granted(ceiling) {
                Some(granted) if !exceeds(value.number(), granted.raised_limit().number()) => {
                    applied.push(AppliedOverride {
                        granted: granted.clone(),
                        ceiling_limit: clinic,
                        value,
                        step,
                    });
                }
                Some(granted) => breaches.push(CeilingBreach {
                    ceiling,
                    step,
                    limit: granted.raised_limit(),
                    value,
                    beyond_override: true,
                }),
                None => breaches.push(CeilingBreach {
                    ceiling,
                    step,
                    limit: clinic,
                    value,
                    beyond_override: false,
                }),
            }
        }
        if breaches.is_empty() {
            Ok(applied)
        } else {
            Err(DosingError::CeilingsExceeded(breaches))
        }
    }
}
