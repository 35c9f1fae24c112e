//! Units. The quantities a person enters or reads — a weight, an age, a height, an amount in mg, a
//! rate in mg/h, a time on the plan's clock — are the shared, validated types of `respite-units`
//! (the same ones the dosing calculator uses, so that an infusion order feeds the simulator
//! unconverted). Re-exported here for callers of this crate.
//!
//! The solver's own quantities below (L, /min, ng/mL, the sampling step in s) never come from a
//! form: their fields are public labels on a number, and the rules (a volume is positive, a rate
//! constant is not negative, a step lies in its range) belong to the types built from them
//! (`CompartmentModel`, `SimulationSettings`), which name the JSON field when they refuse one.

pub use respite_units::{
    Centimetres, ElapsedMinutes, Kilograms, MgPerHour, Milligrams, QuantityError, Years,
};

/// A time or a duration in seconds (only the sampling step is given in seconds; UCUM `s`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Seconds(pub f64);

impl Seconds {
    /// In minutes, the solver's time unit (a plain number: the solver works on `f64`).
    pub fn minutes(self) -> f64 {
        self.0 / 60.0
    }
}

/// A volume in litres (UCUM `L`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Litres(pub f64);

/// A first-order rate constant per minute (UCUM `/min`; never per hour or per second).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct PerMinute(pub f64);

/// A concentration in ng/mL (UCUM `ng/mL`, = µg/L); 1 mg/L = 1000 ng/mL.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct NanogramsPerMillilitre(pub f64);
