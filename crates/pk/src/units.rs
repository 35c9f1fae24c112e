//! Small unit newtypes. A bare `f64` is only used inside the solver, after the edge has converted
//! every quantity to one internal unit (minutes, mg, litres, ng/mL).
//!
//! The fields are public because a unit carries no invariant of its own: the rules (a weight is
//! positive, a duration is not negative) belong to the types built from them (`Patient`, `Dose`).

/// Body weight in kilograms.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Kilograms(pub f64);

/// Age in years.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Years(pub f64);

/// Height in centimetres.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Centimetres(pub f64);

/// A time or a duration in minutes.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Minutes(pub f64);

/// A time or a duration in seconds (only the sampling step is given in seconds).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Seconds(pub f64);

impl Seconds {
    pub fn to_minutes(self) -> Minutes {
        Minutes(self.0 / 60.0)
    }
}

/// An amount of drug in milligrams (never micrograms: 1 mg = 1000 µg).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Milligrams(pub f64);

/// An infusion rate in milligrams per hour, as pumps and protocols state it.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct MilligramsPerHour(pub f64);

impl MilligramsPerHour {
    /// The solver works per minute, like every rate constant in pk-models.md.
    pub fn to_mg_per_min(self) -> f64 {
        self.0 / 60.0
    }
}

/// A volume in litres.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Litres(pub f64);

/// A first-order rate constant per minute (never per hour or per second).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct PerMinute(pub f64);

/// A concentration in ng/mL (= µg/L); 1 mg/L = 1000 ng/mL.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct NanogramsPerMillilitre(pub f64);
