//! Integration tests of the store, one binary with a module per area.

mod chart;
mod decisions;
mod schema_parity;
