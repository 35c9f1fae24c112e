//! Integration tests of the web application, one binary with a module per
//! area; storage tests run on SQLite and PostgreSQL as two named tests
//! (`both_engines!` in `support`).

#[macro_use]
mod support;

mod access;
mod audit;
mod audit_atomic;
mod audit_chain;
mod booking;
mod booking_caps;
mod callbacks;
mod chart;
mod consultation_lifecycle;
mod courses;
mod csrf_binding;
mod decisions;
mod demo_history;
mod demo_numbers;
mod email;
mod hardening;
mod health;
mod inquiries;
mod lists;
mod messaging;
mod names;
mod note_split;
mod orders;
mod patients;
mod portal;
mod public_pages;
mod questionnaire_schedule;
mod register;
mod rescue;
mod results;
mod schedule;
mod sessions;
mod shape;
mod sign_in;
mod takeover;
mod trajectories;
