//! Units of measure as types, shared by the dosing calculator (`respite-clinical`) and the
//! pharmacokinetic simulator (`respite-pk`), so that an infusion order can feed the PK preview
//! without a conversion in between. No dependencies beyond `thiserror`; no I/O.
//!
//! Each quantity is a tiny newtype over `f64` with a private field: once you hold a
//! `Milligrams` it is finite and not negative (and, for the quantities that cannot be
//! zero — a body weight, a height, a duration, a concentration — it is positive).
//! Each names its UCUM unit code (`UCUM`; Regenstrief, "The Unified Code for Units of
//! Measure", ucum.org): `mg`, `ug`, `kg`, `cm`, `mL`, `mg/kg`, `mg/kg/h`, `ug/kg/min`,
//! `mg/h`, `mL/h`, `mg/mL`, `min`, `a` (years).
//! Only the products and quotients that make physical sense are implemented, so
//! these do not compile:
//!
//! mg and µg do not add:
//! ```compile_fail
//! use respite_units::{Micrograms, Milligrams};
//! let total = Milligrams::new(10.0).unwrap() + Micrograms::new(500.0).unwrap();
//! ```
//!
//! a dose per kg is not a rate per kg:
//! ```compile_fail
//! use respite_units::{MgPerKg, MgPerKgPerHour};
//! let rate: MgPerKgPerHour = MgPerKg::new(0.35).unwrap();
//! ```
//!
//! a rate times a weight is a rate (mg/h), not an amount (mg):
//! ```compile_fail
//! use respite_units::{Kilograms, MgPerKgPerHour, Milligrams};
//! let dose: Milligrams = MgPerKgPerHour::new(0.35).unwrap() * Kilograms::new(70.0).unwrap();
//! ```
//!
//! a dose per kg (mg/kg) is not a dose (mg):
//! ```compile_fail
//! use respite_units::{MgPerKg, Milligrams};
//! let dose: Milligrams = MgPerKg::new(0.35).unwrap();
//! ```
//!
//! a rate per minute is not a rate per hour:
//! ```compile_fail
//! use respite_units::{MgPerKgPerHour, UgPerKgPerMin};
//! let rate: MgPerKgPerHour = UgPerKgPerMin::new(5.0).unwrap();
//! ```
//!
//! Durations exist only as [`Minutes`] (positive) and times on a plan's clock as
//! [`ElapsedMinutes`] (minute 0 allowed); a rate exists per hour, or per minute only as
//! µg/kg/min with an explicit conversion. Multiplying a rate per hour by minutes divides by
//! 60 in exactly one place ([`MgPerHour`] × [`Minutes`]).
//!
//! Text input from the edge (a form, a FHIR `Quantity`) enters through `from_ucum`,
//! which names the expected UCUM unit and refuses any other: `"ug"` is not `"mg"`.

#![deny(unsafe_code)]

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

            /// For literal table data only (protocols, default settings, model constants),
            /// never for input: a literal that breaks the rule above is a programming error.
            /// In a `const` it fails the build; elsewhere it panics, and tests walk every table.
            pub const fn literal(value: f64) -> Self {
                assert!(
                    value.is_finite() && value >= 0.0 && ($zero || value > 0.0),
                    concat!("not a valid literal ", $label)
                );
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
    /// A weight-based infusion rate per minute, as some protocols state it: µg per kg of
    /// dosing weight per minute. Converts to [`MgPerKgPerHour`] only explicitly.
    UgPerKgPerMin, "rate (µg/kg/min)", "ug/kg/min", "µg/kg/min", zero_allowed = true
);
quantity!(
    /// A duration in minutes, always positive. The only duration type: hours are derived,
    /// never stored.
    Minutes, "duration (min)", "min", "min", zero_allowed = false
);
quantity!(
    /// A time on a plan's clock in minutes from its start (minute 0 allowed), or a span that
    /// may be empty (an instantaneous bolus). A [`Minutes`] converts into it.
    ElapsedMinutes, "time (min)", "min", "min", zero_allowed = true
);
quantity!(
    /// An age in years (UCUM `a`, the Julian year).
    Years, "age (years)", "a", "years", zero_allowed = true
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

impl From<Minutes> for ElapsedMinutes {
    fn from(duration: Minutes) -> ElapsedMinutes {
        ElapsedMinutes(duration.0)
    }
}

impl ElapsedMinutes {
    /// Minute 0 of a plan.
    pub const START: ElapsedMinutes = ElapsedMinutes(0.0);

    /// The span as a duration, if it is not empty.
    pub fn to_duration(self) -> Option<Minutes> {
        (self.0 > 0.0).then_some(Minutes(self.0))
    }
}

impl MgPerHour {
    /// The same rate per minute, in mg/min (the unit of the PK models' rate constants).
    pub fn mg_per_minute(self) -> f64 {
        self.0 / 60.0
    }
}

impl UgPerKgPerMin {
    /// 1 µg/kg/min = 60 µg/kg/h = 0.06 mg/kg/h.
    pub fn to_mg_per_kg_per_hour(self) -> MgPerKgPerHour {
        MgPerKgPerHour(self.0 * 60.0 / 1000.0)
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
// A time plus a span is a later time.
sum!(ElapsedMinutes);
