//! The practice domain of Respite: who may do what, and the validated values a
//! clinic's front door deals in (phone numbers, e-mail addresses, inquiries).
//!
//! Pure logic, no I/O. Values are parsed once at the edge and are valid for as
//! long as they are held ("parse, don't validate").

pub mod access;
pub mod booking;
pub mod callbacks;
pub mod clinic;
pub mod consent;
pub mod consultation;
pub mod contact;
pub mod inquiry;
pub mod messaging;
pub mod person_name;
pub mod schedule;
pub mod thread;

pub use access::{Permission, Role};
pub use contact::{Email, PhoneNumber};
pub use person_name::{NameError, PersonName};
