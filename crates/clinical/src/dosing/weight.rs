//! Body weight and dosing weight: actual, ideal (Devine 1974) or adjusted.

use super::units::{Centimetres, Kilograms};
use super::{DosingError, DosingSettings};

/// Sex as used by the Devine formula (which has two constants, nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

/// Which weight a protocol's mg/kg refers to (a protocol property).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DosingWeightBasis {
    /// The measured (total) body weight.
    Actual,
    /// Ideal body weight, Devine 1974.
    Ideal,
    /// Adjusted body weight: IBW + 0.4 × (actual − IBW).
    Adjusted,
}

/// The patient's body measurements as far as dosing needs them, checked against the
/// clinic's plausibility ranges: holding one means weight (and height, if given) is
/// plausible for an adult outpatient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatientBody {
    actual_weight: Kilograms,
    height: Option<Centimetres>,
    sex: Option<Sex>,
}

impl PatientBody {
    /// Checks weight and height against `settings.plausible_weight` / `plausible_height`.
    /// Height and sex are needed only for ideal or adjusted dosing weight.
    pub fn new(
        actual_weight_kg: f64,
        height_cm: Option<f64>,
        sex: Option<Sex>,
        settings: &DosingSettings,
    ) -> Result<Self, DosingError> {
        let actual_weight = Kilograms::new(actual_weight_kg)?;
        let range = settings.plausible_weight;
        if !(range.min <= actual_weight && actual_weight <= range.max) {
            return Err(DosingError::ImplausibleWeight {
                weight: actual_weight,
                min: range.min,
                max: range.max,
            });
        }
        let height = match height_cm {
            None => None,
            Some(cm) => {
                let height = Centimetres::new(cm)?;
                let range = settings.plausible_height;
                if !(range.min <= height && height <= range.max) {
                    return Err(DosingError::ImplausibleHeight {
                        height,
                        min: range.min,
                        max: range.max,
                    });
                }
                Some(height)
            }
        };
        Ok(Self {
            actual_weight,
            height,
            sex,
        })
    }

    pub fn actual_weight(&self) -> Kilograms {
        self.actual_weight
    }

    pub fn height(&self) -> Option<Centimetres> {
        self.height
    }

    pub fn sex(&self) -> Option<Sex> {
        self.sex
    }
}

/// The weight a calculation used, and how it was reached (shown to the clinician).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DosingWeight {
    pub basis: DosingWeightBasis,
    pub actual: Kilograms,
    /// Devine IBW when the basis needed it.
    pub ideal: Option<Kilograms>,
    /// The weight the mg/kg figures multiply.
    pub weight: Kilograms,
    /// True when ideal/adjusted weight came out above actual weight and actual was used.
    pub limited_to_actual: bool,
    /// True when the height is below 5 ft, where the Devine formula is extrapolated.
    pub height_below_devine_range: bool,
}

// Devine BJ. Gentamicin therapy. Drug Intell Clin Pharm 1974;8:650–655 (via
// shared/clinical/dosing.md, [to check] against the article): men 50 kg, women 45.5 kg,
// plus 2.3 kg per inch over 5 feet.
const DEVINE_BASE_MALE_KG: f64 = 50.0;
const DEVINE_BASE_FEMALE_KG: f64 = 45.5;
const DEVINE_KG_PER_INCH: f64 = 2.3;
const DEVINE_BASE_HEIGHT_INCHES: f64 = 60.0; // 5 ft
const CM_PER_INCH: f64 = 2.54; // exact, international inch (1959)

// Adjusted body weight factor 0.4: shared/clinical/dosing.md. This factor comes from the
// aminoglycoside literature, not from Devine 1974 (Traynor AM et al. Antimicrob Agents
// Chemother 1995;39:545–548 discusses "IBW + 40 % of excess weight" and derives 0.43).
const ADJUSTED_WEIGHT_EXCESS_FRACTION: f64 = 0.4;

/// Ideal body weight by Devine 1974: `base + 2.3 × (height in inches − 60)`.
///
/// Below 5 ft the formula is extrapolated (it gives less than the base); callers see
/// that through [`DosingWeight::height_below_devine_range`]. Returns an error only if
/// the result is not a positive weight (a height far below any plausible range).
pub fn devine_ideal_body_weight(height: Centimetres, sex: Sex) -> Result<Kilograms, DosingError> {
    let base = match sex {
        Sex::Male => DEVINE_BASE_MALE_KG,
        Sex::Female => DEVINE_BASE_FEMALE_KG,
    };
    let inches = height.value() / CM_PER_INCH;
    let ideal = base + DEVINE_KG_PER_INCH * (inches - DEVINE_BASE_HEIGHT_INCHES);
    Kilograms::new(ideal).map_err(|_| DosingError::IdealWeightNotPositive { height })
}

/// Adjusted body weight: `IBW + 0.4 × (actual − IBW)`.
pub fn adjusted_body_weight(actual: Kilograms, ideal: Kilograms) -> Kilograms {
    let adjusted =
        ideal.value() + ADJUSTED_WEIGHT_EXCESS_FRACTION * (actual.value() - ideal.value());
    // Between two positive weights (a convex combination), so positive.
    Kilograms::literal(adjusted)
}

/// The dosing weight for a basis.
///
/// Safety choice (ours, not from a source): the dosing weight never exceeds the actual
/// weight — for a patient lighter than their ideal weight, ideal or adjusted weight
/// would overdose, so the actual weight is used and this is reported.
pub fn dosing_weight(
    body: &PatientBody,
    basis: DosingWeightBasis,
) -> Result<DosingWeight, DosingError> {
    let actual = body.actual_weight;
    if basis == DosingWeightBasis::Actual {
        return Ok(DosingWeight {
            basis,
            actual,
            ideal: None,
            weight: actual,
            limited_to_actual: false,
            height_below_devine_range: false,
        });
    }
    let (Some(height), Some(sex)) = (body.height, body.sex) else {
        return Err(DosingError::HeightAndSexRequired { basis });
    };
    let ideal = devine_ideal_body_weight(height, sex)?;
    let computed = match basis {
        DosingWeightBasis::Ideal => ideal,
        DosingWeightBasis::Adjusted | DosingWeightBasis::Actual => {
            adjusted_body_weight(actual, ideal)
        }
    };
    let limited_to_actual = computed > actual;
    Ok(DosingWeight {
        basis,
        actual,
        ideal: Some(ideal),
        weight: if limited_to_actual { actual } else { computed },
        limited_to_actual,
        height_below_devine_range: height.value() / CM_PER_INCH < DEVINE_BASE_HEIGHT_INCHES,
    })
}
