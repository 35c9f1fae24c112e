//! Page handlers, one module per area. Each handler is short: extract, call
//! the domain or the store, render.

pub mod account;
pub mod audit;
pub mod callbacks;
pub mod chart;
pub mod consultation_notes;
pub mod consultations;
mod context;
pub mod decisions;
pub mod errors;
pub mod lists;
pub mod orders;
pub mod plans;
pub mod portal;
pub mod portal_staff;
pub mod public;
pub mod questionnaire_settings;
pub mod register;
pub mod results;
pub mod schedule;
pub mod screening;
pub mod sessions;
pub mod settings;
pub mod sign_in;
pub mod staff;
pub mod trajectories;
pub mod webhooks;
pub mod worklist;

pub use context::{clinic_facts, PublicPage, StaffPage};

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::auth::StaffSession;
use crate::AppError;
use respite_domain::Permission;

/// Renders a template into an HTML response.
pub fn render(template: &impl Template) -> Result<Response, AppError> {
    Ok(Html(template.render()?).into_response())
}

/// Renders a template with `status`: a form shown again with its errors
/// (422), or a slot taken meanwhile (409).
pub fn render_with(status: StatusCode, template: &impl Template) -> Result<Response, AppError> {
    Ok((status, Html(template.render()?)).into_response())
}

/// The status of a form page: 200 when it is fresh, 422 when it comes back
/// with `errors`.
pub fn form_status(errors: &[respite_domain::inquiry::FieldError]) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// The staff navigation bar: who is signed in and what they may open.
#[derive(Clone)]
pub struct Nav {
    pub name: String,
    pub role: &'static str,
    pub inquiries: bool,
    pub callbacks: bool,
    pub patients: bool,
    pub charts: bool,
    pub audit: bool,
    pub schedule: bool,
    pub settings: bool,
    /// The controlled-substance register.
    pub register: bool,
    pub protocols: bool,
    /// The PHQ-9 safety alerts page (with the open count on the page).
    pub alerts: bool,
    /// The clinic-wide results page.
    pub results: bool,
    /// Today's infusion sessions (nurses and clinicians).
    pub sessions: bool,
    /// How many safety alerts wait for a clinician (shown beside the link).
    pub open_alerts: i64,
    pub csrf: String,
    /// The clinic's country (ISO 3166-1 alpha-2), in which phone numbers
    /// are written in national format.
    pub region: String,
}

impl Nav {
    pub fn new(session: &StaffSession, csrf: &str, region: &str) -> Nav {
        let role = session.user.role;
        Nav {
            name: session.user.display_name.clone(),
            role: role.label(),
            inquiries: role.grants(Permission::ReadInquiries),
            callbacks: role.grants(Permission::ReadInquiries),
            patients: role.grants(Permission::ReadPatientDirectory),
            charts: role.grants(Permission::ReadClinicalRecords),
            audit: role.grants(Permission::ReadAuditTrail),
            schedule: role.grants(Permission::ReadSchedule),
            settings: role.grants(Permission::ManageClinicSettings),
            register: role.grants(Permission::ReadControlledSubstanceRegister),
            protocols: role.grants(Permission::ReadProtocols),
            alerts: role.grants(Permission::ReadSafetyAlerts),
            results: role.grants(Permission::ReadClinicResults),
            sessions: role.grants(Permission::DocumentInfusionSessions),
            open_alerts: 0,
            csrf: csrf.to_owned(),
            region: region.to_owned(),
        }
    }

    /// A stored E.164 number as people write it in the clinic's country
    /// (`words::common::phone`).
    pub fn phone(&self, e164: &str) -> String {
        crate::words::common::phone(e164, &self.region)
    }

    /// An address a message came from or went to: a phone number written
    /// for people, an e-mail address as it is.
    pub fn contact(&self, address: &str) -> String {
        if address.starts_with('+') {
            self.phone(address)
        } else {
            address.to_owned()
        }
    }
}

/// A record id from the path: a positive integer, else 404 (an id that
/// cannot exist is not found, not malformed, so no id is ever probed).
pub fn parse_id(text: &str) -> Result<i64, AppError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)
}

/// The inquiry named by the path, or 404.
pub async fn load_inquiry(
    state: &crate::AppState,
    id: &str,
) -> Result<respite_store::InquiryRecord, AppError> {
    let id = parse_id(id)?;
    state.store.inquiry(id).await?.ok_or(AppError::NotFound)
}

/// The message of `field`'s error among a refused form's `errors`, for the
/// template to show beside the field.
pub fn field_error<'a>(
    errors: &'a [respite_domain::inquiry::FieldError],
    field: &str,
) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

/// The clinic's name as the settings give it (for messages sent by jobs).
pub async fn clinic_name(state: &crate::AppState) -> Result<String, respite_store::StoreError> {
    Ok(state
        .store
        .clinic_profile()
        .await?
        .map_or_else(|| state.config.clinic_name.clone(), |p| p.profile.name))
}
