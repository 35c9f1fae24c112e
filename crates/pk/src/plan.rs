//! A dosing plan: boluses and infusions into the central compartment, in mg and mg/h over time.

use crate::units::{ElapsedMinutes, MgPerHour, Milligrams, QuantityError};

/// Sanity limits of the simulator's input (not clinical ceilings, which live in the dosing rules):
/// they keep every number the solver meets finite and every run bounded.
pub const MAX_DOSES: usize = 1000;
/// One week: longer than any session the clinic simulates.
pub const MAX_TIME_MIN: f64 = 10_080.0;
/// 10 g of ketamine in one dose or per hour is a typing error (mg for µg), never a plan.
pub const MAX_AMOUNT_MG: f64 = 10_000.0;
pub const MAX_RATE_MG_PER_H: f64 = 10_000.0;

/// What a dose delivers: a total amount spread evenly over its duration (an instantaneous bolus
/// when the duration is 0), or a constant rate over a positive duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delivery {
    Amount(Milligrams),
    Rate(MgPerHour),
}

/// One validated dose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dose {
    start: ElapsedMinutes,
    duration: ElapsedMinutes,
    delivery: Delivery,
}

/// Why a dose was refused. `field` is the JSON field name so the message leads straight to it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DoseError {
    #[error("{field} must be a finite number, got {value}")]
    NotFinite { field: &'static str, value: f64 },
    #[error("{field} must not be negative, got {value}")]
    Negative { field: &'static str, value: f64 },
    #[error("{field} must be at most {max}, got {value}")]
    TooLarge {
        field: &'static str,
        max: f64,
        value: f64,
    },
    #[error(
        "rate_mg_per_h needs duration_min greater than 0 (a rate over no time delivers nothing)"
    )]
    RateWithoutDuration,
    #[error("give exactly one of amount_mg and rate_mg_per_h, not both")]
    BothAmountAndRate,
    #[error("give one of amount_mg (total over duration_min) or rate_mg_per_h")]
    NeitherAmountNorRate,
    /// Unreachable after the checks above; kept so that no conversion can panic.
    #[error(transparent)]
    Quantity(#[from] QuantityError),
}

/// Why a plan was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("doses[{index}]: {source}")]
    Dose { index: usize, source: DoseError },
    #[error("doses: at most {max} doses per plan, got {count}")]
    TooManyDoses { max: usize, count: usize },
}

impl Dose {
    /// `amount` spread evenly over `duration`; a zero duration is an instantaneous bolus.
    pub fn amount(
        start: ElapsedMinutes,
        duration: ElapsedMinutes,
        amount: Milligrams,
    ) -> Result<Dose, DoseError> {
        check_time("start_min", start.value())?;
        check_time("duration_min", duration.value())?;
        check_quantity("amount_mg", amount.value(), MAX_AMOUNT_MG)?;
        Ok(Dose {
            start,
            duration,
            delivery: Delivery::Amount(amount),
        })
    }

    /// A constant `rate` over a positive `duration`.
    pub fn rate(
        start: ElapsedMinutes,
        duration: ElapsedMinutes,
        rate: MgPerHour,
    ) -> Result<Dose, DoseError> {
        check_time("start_min", start.value())?;
        check_time("duration_min", duration.value())?;
        check_quantity("rate_mg_per_h", rate.value(), MAX_RATE_MG_PER_H)?;
        if duration.value() <= 0.0 {
            return Err(DoseError::RateWithoutDuration);
        }
        Ok(Dose {
            start,
            duration,
            delivery: Delivery::Rate(rate),
        })
    }

    /// [`Dose::amount`] from plain numbers (the JSON edge): each is checked under its field
    /// name (`start_min`, `duration_min`, `amount_mg`), in that order, before it becomes a
    /// quantity.
    pub fn amount_from_numbers(
        start_min: f64,
        duration_min: f64,
        amount_mg: f64,
    ) -> Result<Dose, DoseError> {
        let (start, duration) = times_from_numbers(start_min, duration_min)?;
        check_quantity("amount_mg", amount_mg, MAX_AMOUNT_MG)?;
        Dose::amount(start, duration, Milligrams::new(amount_mg)?)
    }

    /// [`Dose::rate`] from plain numbers, checked as [`Dose::amount_from_numbers`].
    pub fn rate_from_numbers(
        start_min: f64,
        duration_min: f64,
        rate_mg_per_h: f64,
    ) -> Result<Dose, DoseError> {
        let (start, duration) = times_from_numbers(start_min, duration_min)?;
        check_quantity("rate_mg_per_h", rate_mg_per_h, MAX_RATE_MG_PER_H)?;
        Dose::rate(start, duration, MgPerHour::new(rate_mg_per_h)?)
    }

    pub fn start(&self) -> ElapsedMinutes {
        self.start
    }

    pub fn duration(&self) -> ElapsedMinutes {
        self.duration
    }

    pub fn end(&self) -> ElapsedMinutes {
        self.start + self.duration
    }

    pub fn delivery(&self) -> Delivery {
        self.delivery
    }

    /// The amount given at one instant, if this dose is an instantaneous bolus.
    pub(crate) fn bolus_mg(&self) -> Option<f64> {
        match self.delivery {
            Delivery::Amount(amount) if self.duration.value() == 0.0 => Some(amount.value()),
            _ => None,
        }
    }

    /// The constant input rate while the dose runs, in mg/min, if it runs over time.
    pub(crate) fn rate_mg_per_min(&self) -> Option<f64> {
        if self.duration.value() <= 0.0 {
            return None;
        }
        match self.delivery {
            Delivery::Amount(amount) => Some(amount.value() / self.duration.value()),
            Delivery::Rate(rate) => Some(rate.mg_per_minute()),
        }
    }
}

/// A list of doses; overlapping doses add.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DosingPlan {
    doses: Vec<Dose>,
}

impl DosingPlan {
    pub fn new(doses: Vec<Dose>) -> Result<DosingPlan, PlanError> {
        if doses.len() > MAX_DOSES {
            return Err(PlanError::TooManyDoses {
                max: MAX_DOSES,
                count: doses.len(),
            });
        }
        Ok(DosingPlan { doses })
    }

    pub fn doses(&self) -> &[Dose] {
        &self.doses
    }
}

fn times_from_numbers(
    start_min: f64,
    duration_min: f64,
) -> Result<(ElapsedMinutes, ElapsedMinutes), DoseError> {
    check_time("start_min", start_min)?;
    check_time("duration_min", duration_min)?;
    Ok((
        ElapsedMinutes::new(start_min)?,
        ElapsedMinutes::new(duration_min)?,
    ))
}

fn check_time(field: &'static str, value: f64) -> Result<(), DoseError> {
    check_quantity(field, value, MAX_TIME_MIN)
}

fn check_quantity(field: &'static str, value: f64, max: f64) -> Result<(), DoseError> {
    if !value.is_finite() {
        return Err(DoseError::NotFinite { field, value });
    }
    if value < 0.0 {
        return Err(DoseError::Negative { field, value });
    }
    if value > max {
        return Err(DoseError::TooLarge { field, max, value });
    }
    Ok(())
}
