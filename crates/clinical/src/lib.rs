//! The clinical core of Respite: validated instruments, outcome definitions,
//! the ketamine screening engine and dosing with hard limits.
//!
//! Pure logic: no I/O, no clock, no database, no HTTP. Every function that can
//! fail does so only on bad input, reported as a typed error. Every clinical
//! number carries its source beside it (see `shared/clinical/` in the product
//! documentation).

pub mod dosing;
pub mod instruments;
pub mod outcomes;
pub mod plan;
pub mod register;
pub mod screening;
pub mod session;
