//! Units of measure as types: the shared quantities of crate `respite-units` (mg, µg, kg,
//! mg/kg, mg/kg/h, mg/h, mL/h, mg/mL, min …), re-exported under the dosing module so that
//! protocols and calculations name them where they are used. The `compile_fail` proofs that
//! units cannot mix live with the types in `respite-units`.

pub use respite_units::*;
