//! The patient as the models see them: weight, age, sex and height, checked once at the edge.

use crate::units::{Centimetres, Kilograms, QuantityError, Years};

/// Biological sex as recorded for the models' covariates (none of ours uses it yet; it is kept so
/// that a model which does can be added without changing callers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Female,
    Male,
}

/// A patient whose covariates are physically plausible. Holding one means the checks passed; whether
/// a *model* was fitted on such a patient is a separate question answered with warnings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patient {
    weight: Kilograms,
    age: Years,
    sex: Sex,
    height: Centimetres,
}

/// Physical plausibility limits. These are sanity bounds for a simulator input, not clinical
/// limits: they reject typing errors (a weight in grams, an age in months), nothing more.
pub const WEIGHT_LIMITS_KG: (f64, f64) = (1.0, 400.0);
pub const AGE_LIMITS_YEARS: (f64, f64) = (0.0, 130.0);
pub const HEIGHT_LIMITS_CM: (f64, f64) = (30.0, 280.0);

/// Why a patient's covariates were refused. Each variant names the field and the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatientError {
    #[error("patient.{field} must be a finite number, got {value}")]
    NotFinite { field: &'static str, value: f64 },
    #[error("patient.{field} must be greater than 0 {unit}, got {value}")]
    NotPositive {
        field: &'static str,
        unit: &'static str,
        value: f64,
    },
    #[error("patient.{field} must be between {min} and {max} {unit}, got {value}")]
    OutOfRange {
        field: &'static str,
        unit: &'static str,
        min: f64,
        max: f64,
        value: f64,
    },
    /// Unreachable after the checks above; kept so that no conversion can panic.
    #[error("patient: {0}")]
    Quantity(#[from] QuantityError),
}

impl Patient {
    /// A patient from typed covariates (finite and, for weight and height, positive by type);
    /// checks that each lies within its plausibility limits.
    pub fn new(
        weight: Kilograms,
        age: Years,
        sex: Sex,
        height: Centimetres,
    ) -> Result<Patient, PatientError> {
        check_covariate("weight_kg", "kg", weight.value(), WEIGHT_LIMITS_KG, true)?;
        check_covariate("age_years", "years", age.value(), AGE_LIMITS_YEARS, false)?;
        check_covariate("height_cm", "cm", height.value(), HEIGHT_LIMITS_CM, true)?;
        Ok(Patient {
            weight,
            age,
            sex,
            height,
        })
    }

    /// A patient from plain numbers (the JSON edge): each is checked under its field name
    /// (`weight_kg`, `age_years`, `height_cm`), in that order, before it becomes a quantity.
    pub fn from_numbers(
        weight_kg: f64,
        age_years: f64,
        sex: Sex,
        height_cm: f64,
    ) -> Result<Patient, PatientError> {
        check_covariate("weight_kg", "kg", weight_kg, WEIGHT_LIMITS_KG, true)?;
        check_covariate("age_years", "years", age_years, AGE_LIMITS_YEARS, false)?;
        check_covariate("height_cm", "cm", height_cm, HEIGHT_LIMITS_CM, true)?;
        Patient::new(
            Kilograms::new(weight_kg)?,
            Years::new(age_years)?,
            sex,
            Centimetres::new(height_cm)?,
        )
    }

    pub fn weight(&self) -> Kilograms {
        self.weight
    }

    pub fn age(&self) -> Years {
        self.age
    }

    pub fn sex(&self) -> Sex {
        self.sex
    }

    pub fn height(&self) -> Centimetres {
        self.height
    }
}

fn check_covariate(
    field: &'static str,
    unit: &'static str,
    value: f64,
    (min, max): (f64, f64),
    must_be_positive: bool,
) -> Result<(), PatientError> {
    if !value.is_finite() {
        return Err(PatientError::NotFinite { field, value });
    }
    if must_be_positive && value <= 0.0 {
        return Err(PatientError::NotPositive { field, unit, value });
    }
    if !(min <= value && value <= max) {
        return Err(PatientError::OutOfRange {
            field,
            unit,
            min,
            max,
            value,
        });
    }
    Ok(())
}
