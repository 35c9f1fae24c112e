//! One test binary for the clinical core, so it links once: a module per area.

mod dosing;
mod instruments;
mod instruments_properties;
mod outcomes;
mod outcomes_oracle;
mod screening;
