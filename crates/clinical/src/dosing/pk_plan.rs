//! A session's steps as the doses respite-pk simulates: one step after the
//! other from the start, boluses as an amount over their minutes, infusions
//! as a rate. The order page's preview (from the calculated session) and
//! the session record's "planned" curve (from the order's per-kg steps and
//! dosing weight) both come from here, so the two can never disagree.

use respite_pk::{Dose, DoseError, DosingPlan, PlanError};

use super::{CalculatedStep, ProtocolStep, SessionDose};

/// Planned doses and how long they take.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedDoses {
    pub plan: DosingPlan,
    pub minutes: f64,
}

/// Why steps could not become a plan.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlannedDosesError {
    #[error(transparent)]
    Dose(#[from] DoseError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// One step in absolute terms.
enum Step {
    Bolus { mg: f64, over_min: f64 },
    Infusion { mg_per_h: f64, minutes: f64 },
}

fn planned(steps: impl IntoIterator<Item = Step>) -> Result<PlannedDoses, PlannedDosesError> {
    let mut start = 0.0;
    let mut doses = Vec::new();
    for step in steps {
        let (dose, minutes) = match step {
            Step::Bolus { mg, over_min } => {
                (Dose::amount_from_numbers(start, over_min, mg)?, over_min)
            }
            Step::Infusion { mg_per_h, minutes } => {
                (Dose::rate_from_numbers(start, minutes, mg_per_h)?, minutes)
            }
        };
        doses.push(dose);
        start += minutes;
    }
    Ok(PlannedDoses {
        plan: DosingPlan::new(doses)?,
        minutes: start,
    })
}

impl SessionDose {
    /// The calculated session as delivered by the pump (volume and pump
    /// rate times the concentration).
    pub fn planned_doses(&self) -> Result<PlannedDoses, PlannedDosesError> {
        planned(self.steps.iter().map(|step| match *step {
            CalculatedStep::Bolus { dose, over, .. } => Step::Bolus {
                mg: dose.value(),
                over_min: over.value(),
            },
            CalculatedStep::Infusion { rate, duration, .. } => Step::Infusion {
                mg_per_h: rate.value(),
                minutes: duration.value(),
            },
        }))
    }
}

/// An order's per-kg steps at its dosing weight.
pub fn planned_doses(
    steps: &[ProtocolStep],
    dosing_weight_kg: f64,
) -> Result<PlannedDoses, PlannedDosesError> {
    planned(steps.iter().map(|step| match *step {
        ProtocolStep::Bolus { dose, over } => Step::Bolus {
            mg: dose.value() * dosing_weight_kg,
            over_min: over.value(),
        },
        ProtocolStep::Infusion { rate, duration } => Step::Infusion {
            mg_per_h: rate.value() * dosing_weight_kg,
            minutes: duration.value(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dosing::units::{MgPerKg, MgPerKgPerHour, Minutes};
    use respite_pk::Delivery;

    #[test]
    fn steps_follow_one_another_at_the_dosing_weight() {
        // 0.35 mg/kg over 1 min, then 0.5 mg/kg/h for 40 min, at 80 kg:
        // 28 mg in the first minute, then 40 mg/h until minute 41.
        let steps = [
            ProtocolStep::Bolus {
                dose: MgPerKg::new(0.35).unwrap(),
                over: Minutes::new(1.0).unwrap(),
            },
            ProtocolStep::Infusion {
                rate: MgPerKgPerHour::new(0.5).unwrap(),
                duration: Minutes::new(40.0).unwrap(),
            },
        ];
        let planned = planned_doses(&steps, 80.0).unwrap();
        assert_eq!(planned.minutes, 41.0);
        let doses = planned.plan.doses();
        assert_eq!(doses.len(), 2);
        assert_eq!(
            (doses[0].start().value(), doses[0].duration().value()),
            (0.0, 1.0)
        );
        assert!(
            matches!(doses[0].delivery(), Delivery::Amount(mg) if (mg.value() - 28.0).abs() < 1e-9)
        );
        assert_eq!(
            (doses[1].start().value(), doses[1].end().value()),
            (1.0, 41.0)
        );
        assert!(
            matches!(doses[1].delivery(), Delivery::Rate(r) if (r.value() - 40.0).abs() < 1e-9)
        );
    }

    #[test]
    fn no_steps_plan_nothing() {
        let planned = planned_doses(&[], 80.0).unwrap();
        assert!(planned.plan.doses().is_empty());
        assert_eq!(planned.minutes, 0.0);
    }
}
