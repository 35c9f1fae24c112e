//! Integration tests of the store, one binary with a module per area.

mod chart;
mod schema_parity;
