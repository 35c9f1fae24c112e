//! Units of measure as types.
//!
//! Each quantity is a tiny newtype over `f64` with a private field: once you hold a
//! `Milligrams` it is finite and not negative (and, for the quantities that cannot be
//! zero — a body weight, a height, a duration, a concentration — it is positive).
//! Only the products and quotients that make physical sense are implemented, so
//! these do not compile:
//!
//! ```compile_fail
//! use respite_clinical::dosing::units::{Micrograms, Milligrams};
//! let total = Milligrams::new(10.0).unwrap() + Micrograms::new(500.0).unwrap();
//! ```
//!
//! ```compile_fail
//! use respite_clinical::dosing::units::{MgPerKg, MgPerKgPerHour};
//! let rate: MgPerKgPerHour = MgPerKg::new(0.35).unwrap();
//! ```
//!
//! ```compile_fail
//! use respite_clinical::dosing::units::{Kilograms, MgPerKgPerHour, Milligrams};
//! // a rate times a weight is a rate (mg/h), not an amount (mg)
//! let dose: Milligrams = MgPerKgPerHour::new(0.35).unwrap() * Kilograms::new(70.0).unwrap();
//! ```
//!
//! Durations exist only as [`Minutes`]; a rate exists only per hour. Multiplying a rate
//! per hour by minutes divides by 60 in exactly one place ([`MgPerHour`] × [`Minutes`]).
//!
//! Text input from the edge (a form, a FHIR `Quantity`) enters through `from_ucum`,
//! which names the expected UCUM unit and refuses any other: `"ug"` is not `"mg"`.

use std::fmt;
use std::ops::{Add, Div, Mul};

/// Why a number cannot be a quantity.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuantityError {
    #[error("{quantity} must be a finite number, got {value}")]
    NotFinite { quantity: &'static str, value: f64 },
    #[error("{quantity} cannot be negative, got {value}")]
    Negative { quantity: &'static str, value: f64 },
    #[error("{quantity} must be greater than zero, got {value}")]
    NotPositive { quantity: &'static str, value: f64 },
    #[error("{quantity} expects the unit {expected:?}, got {found:?}")]
    UnitMismatch {
        quantity: &'static str,
        expected: &'static str,
        found: String,
    },
}

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $label:literal, $ucum:literal, $symbol:literal, zero_allowed = $zero:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
        pub struct $name(f64);

        impl $name {
            /// The UCUM unit code this quantity is expressed in.
            pub const UCUM: &'static str = $ucum;
            /// A human-readable name for error messages.
            pub const LABEL: &'static str = $label;

            /// Parses a number into this quantity: finite and not negative
            #[doc = concat!("(zero allowed: ", stringify!($zero), ").")]
            pub fn new(value: f64) -> Result<Self, QuantityError> {
                if !value.is_finite() {
                    return Err(QuantityError::NotFinite { quantity: $label, value });
                }
                if value < 0.0 {
                    return Err(QuantityError::Negative { quantity: $label, value });
                }
                if !$zero && value == 0.0 {
                    return Err(QuantityError::NotPositive { quantity: $label, value });
                }
                Ok(Self(value))
            }

            /// Parses a number with its UCUM unit code; any other unit is a mismatch.
            pub fn from_ucum(value: f64, unit: &str) -> Result<Self, QuantityError> {
                if unit.trim() != $ucum {
                    return Err(QuantityError::UnitMismatch {
                        quantity: $label,
                        expected: $ucum,
                        found: unit.to_owned(),
                    });
                }
                Self::new(value)
            }

            /// For literal table data only (protocols, default settings): the caller
            /// guarantees the literal is finite and in range; tests check every table.
            #[allow(dead_code)] // not every quantity appears in a table
            pub(crate) const fn literal(value: f64) -> Self {
                Self(value)
            }

            /// The number, in this quantity's unit.
            pub fn value(self) -> f64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Trailing zeros trimmed, at most 3 decimals: 24.5 mg, 0.35 mg/kg.
                let text = format!("{:.3}", self.0);
                let text = text.trim_end_matches('0').trim_end_matches('.');
                write!(f, "{} {}", text, $symbol)
            }
        }
    };
}

quantity!(
    /// An amount of drug in milligrams.
    Milligrams, "amount (mg)", "mg", "mg", zero_allowed = true
);
quantity!(
    /// An amount of drug in micrograms. Converts to [`Milligrams`] only explicitly.
    Micrograms, "amount (µg)", "ug", "µg", zero_allowed = true
);
quantity!(
    /// A body weight (or a dosing weight) in kilograms.
    Kilograms, "weight (kg)", "kg", "kg", zero_allowed = false
);
quantity!(
    /// A body height in centimetres.
    Centimetres, "height (cm)", "cm", "cm", zero_allowed = false
);
quantity!(
    /// A volume in millilitres.
    Millilitres, "volume (mL)", "mL", "mL", zero_allowed = true
);
quantity!(
    /// A weight-based amount: mg per kg of dosing weight.
    MgPerKg, "dose (mg/kg)", "mg/kg", "mg/kg", zero_allowed = true
);
quantity!(
    /// A weight-based infusion rate: mg per kg of dosing weight per hour.
    MgPerKgPerHour, "rate (mg/kg/h)", "mg/kg/h", "mg/kg/h", zero_allowed = true
);
quantity!(
    /// An infusion rate in mg per hour.
    MgPerHour, "rate (mg/h)", "mg/h", "mg/h", zero_allowed = true
);
quantity!(
    /// A pump rate in mL per hour.
    MlPerHour, "pump rate (mL/h)", "mL/h", "mL/h", zero_allowed = true
);
quantity!(
    /// A concentration of drug in solution, mg per mL (a vial or a diluted bag).
    MgPerMl, "concentration (mg/mL)", "mg/mL", "mg/mL", zero_allowed = false
);
quantity!(
    /// A duration in minutes. The only duration type: hours are derived, never stored.
    Minutes, "duration (min)", "min", "min", zero_allowed = false
);

impl Micrograms {
    /// 1 mg = 1000 µg.
    pub fn to_milligrams(self) -> Milligrams {
        Milligrams(self.0 / 1000.0)
    }
}

impl Milligrams {
    /// 1 mg = 1000 µg.
    pub fn to_micrograms(self) -> Micrograms {
        Micrograms(self.0 * 1000.0)
    }
}

impl Minutes {
    /// The duration in hours (for display; arithmetic goes through the typed operators).
    pub fn hours(self) -> f64 {
        self.0 / 60.0
    }
}

macro_rules! product {
    ($lhs:ident * $rhs:ident = $out:ident, |$a:ident, $b:ident| $expr:expr) => {
        impl Mul<$rhs> for $lhs {
            type Output = $out;
            fn mul(self, rhs: $rhs) -> $out {
                let ($a, $b) = (self.0, rhs.0);
                $out($expr)
            }
        }
    };
}

macro_rules! quotient {
    ($lhs:ident / $rhs:ident = $out:ident, |$a:ident, $b:ident| $expr:expr) => {
        // The divisor types are all positive by construction, so no division by zero.
        impl Div<$rhs> for $lhs {
            type Output = $out;
            fn div(self, rhs: $rhs) -> $out {
                let ($a, $b) = (self.0, rhs.0);
                $out($expr)
            }
        }
    };
}

macro_rules! sum {
    ($t:ident) => {
        impl Add for $t {
            type Output = $t;
            fn add(self, rhs: $t) -> $t {
                $t(self.0 + rhs.0)
            }
        }
    };
}

product!(MgPerKg * Kilograms = Milligrams, |a, b| a * b);
product!(MgPerKgPerHour * Kilograms = MgPerHour, |a, b| a * b);
// mg/h × min: the one place where minutes become hours.
product!(MgPerHour * Minutes = Milligrams, |a, b| a * b / 60.0);
product!(MlPerHour * Minutes = Millilitres, |a, b| a * b / 60.0);
product!(Millilitres * MgPerMl = Milligrams, |a, b| a * b);
product!(MlPerHour * MgPerMl = MgPerHour, |a, b| a * b);
quotient!(Milligrams / MgPerMl = Millilitres, |a, b| a / b);
quotient!(MgPerHour / MgPerMl = MlPerHour, |a, b| a / b);
quotient!(Milligrams / Kilograms = MgPerKg, |a, b| a / b);
quotient!(MgPerHour / Kilograms = MgPerKgPerHour, |a, b| a / b);
// An amount spread over a duration is a rate per hour.
quotient!(Milligrams / Minutes = MgPerHour, |a, b| a * 60.0 / b);
sum!(Milligrams);
sum!(Millilitres);
sum!(Minutes);
