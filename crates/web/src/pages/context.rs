//! What every page handler starts from, as extractors: [`StaffPage`] for
//! the staff application, [`PublicPage`] for the pages anyone can open.
//! A handler takes one of them instead of repeating its own opening; both
//! read the clock once per request and carry the clinic's zone, parsed once
//! at start-up (`AppState::clinic_zone`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_domain::Permission;

use super::Nav;
use crate::auth::StaffSession;
use crate::csrf::CsrfToken;
use crate::words::public::ClinicFacts;
use crate::{AppError, AppState};

/// A staff page's request: who is signed in, the form token, the clinic's
/// zone and the time. Only a route whose guard admitted a session can
/// produce one; anywhere else it refuses with 401.
#[derive(Clone)]
pub struct StaffPage {
    pub session: StaffSession,
    /// The CSRF token every form of the page repeats.
    pub csrf: String,
    pub zone: TimeZone,
    pub now: Timestamp,
    /// The clinic's country, for phone numbers (`WebConfig::clinic_region`).
    pub region: String,
    /// Open PHQ-9 safety alerts, for the navigation's count (roles that
    /// see alerts only; 0 for the others).
    pub open_alerts: i64,
}

impl StaffPage {
    /// The navigation bar: who is signed in and what they may open.
    pub fn nav(&self) -> Nav {
        let mut nav = Nav::new(&self.session, &self.csrf, &self.region);
        nav.open_alerts = self.open_alerts;
        nav
    }

    /// Whether the signed-in role grants `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        self.session.user.role.grants(permission)
    }

    /// `at` on the clinic's clock, e.g. `2026-11-25 09:30`.
    pub fn time(&self, at: Timestamp) -> String {
        clinic_time(at, &self.zone)
    }

    /// Today's date at the clinic.
    pub fn today(&self) -> Date {
        self.now.to_zoned(self.zone.clone()).date()
    }
}

impl FromRequestParts<AppState> for StaffPage {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = parts
            .extensions
            .get::<StaffSession>()
            .cloned()
            .ok_or(AppError::Unauthorised { return_to: None })?;
        let open_alerts = if session.user.role.grants(Permission::ReadSafetyAlerts) {
            state.store.open_safety_alert_count().await?
        } else {
            0
        };
        Ok(StaffPage {
            open_alerts,
            session,
            csrf: csrf_token(parts)?,
            zone: state.clinic_zone.clone(),
            now: state.config.clock.now(),
            region: state.config.clinic_region.clone(),
        })
    }
}

/// A public page's request: the clinic (its name and the details every
/// public page shows, from the clinic settings), the form token, the
/// clinic's zone and the time.
#[derive(Clone)]
pub struct PublicPage {
    pub clinic_name: String,
    pub clinic: ClinicFacts,
    pub csrf: String,
    pub zone: TimeZone,
    pub now: Timestamp,
}

impl FromRequestParts<AppState> for PublicPage {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let clinic = clinic_facts(state).await?;
        Ok(PublicPage {
            clinic_name: clinic.name.clone(),
            clinic,
            csrf: csrf_token(parts)?,
            zone: state.clinic_zone.clone(),
            now: state.config.clock.now(),
        })
    }
}

/// The clinic as the public pages show it, from the clinic settings.
pub async fn clinic_facts(state: &AppState) -> Result<ClinicFacts, AppError> {
    let stored = state.store.clinic_profile().await?;
    Ok(ClinicFacts::from_settings(
        stored.as_ref(),
        &state.config.clinic_name,
        &state.config.clinic_region,
    ))
}

/// A timestamp shown on the clinic's clock, e.g. `2026-11-25 09:30`.
pub fn clinic_time(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned(zone.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// The CSRF layer puts the token on every request it lets through; a page
/// outside that layer is a wiring mistake.
fn csrf_token(parts: &Parts) -> Result<String, AppError> {
    parts
        .extensions
        .get::<CsrfToken>()
        .map(|token| token.0.clone())
        .ok_or(AppError::Internal("page served outside the CSRF layer"))
}
