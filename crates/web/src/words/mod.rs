//! The words people read. Every value shown on a page (a status, a duration, a unit, a
//! phone number, a clinical verdict) is turned into words here and nowhere else; codes
//! stay in the data and in exports. One file per area of the product.

pub mod booking;
pub mod chart;
pub mod common;
pub mod decisions;
pub mod infusion;
pub mod lists;
pub mod notes;
pub mod plan;
pub mod portal;
pub mod public;
pub mod questionnaires;
pub mod register;
pub mod results;
pub mod screening;
pub mod session;
pub mod trajectories;
