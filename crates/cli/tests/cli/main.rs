//! The `respite` binary as a user runs it: flags, errors, and durability of
//! acknowledged inquiries across a crash.

#[macro_use]
mod support;

mod audit_verify;
mod crash;
mod instruments;
mod migrate;
mod pk;
mod routes_and_demo_mail;
mod settings;
