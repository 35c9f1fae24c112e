//! The clinic's public page: who we are, and the inquiry form.

use askama::Template;
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use respite_domain::inquiry::{
    Days, FieldError, InquiryForm, PainArea, PainDuration, PreferredChannel,
};
use respite_store::AuditStamp;
use serde::Deserialize;

use super::{field_error, render, render_with, PublicPage};
use crate::access::AuditedRecord;
use crate::words::public::ClinicFacts;
use crate::{AppError, AppState};

/// Time zones offered in the form; the page's script adds the browser's own
/// zone when it is not among them.
pub(crate) const TIME_ZONES: &[&str] = &[
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
];

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    clinic: &'a ClinicFacts,
    csrf: &'a str,
    form: InquiryForm,
    errors: Vec<FieldError>,
    time_zones: Vec<String>,
    preferred_channels: &'static [PreferredChannel],
    pain_areas: &'static [PainArea],
    pain_durations: &'static [PainDuration],
    days: &'static [Days],
}

impl HomePage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

pub async fn home(State(state): State<AppState>, page: PublicPage) -> Result<Response, AppError> {
    let form = InquiryForm {
        time_zone: state.config.clinic_time_zone.clone(),
        preferred_channel: "phone".into(),
        ..InquiryForm::default()
    };
    render(&home_page(&page, form, Vec::new()))
}

fn home_page(page: &PublicPage, form: InquiryForm, errors: Vec<FieldError>) -> HomePage<'_> {
    let mut time_zones: Vec<String> = TIME_ZONES.iter().map(|&z| z.to_owned()).collect();
    if !form.time_zone.is_empty() && !time_zones.contains(&form.time_zone) {
        // Keep an unlisted zone that the browser or the person gave.
        time_zones.push(form.time_zone.clone());
    }
    HomePage {
        clinic: &page.clinic,
        csrf: &page.csrf,
        form,
        errors,
        time_zones,
        preferred_channels: PreferredChannel::ALL,
        pain_areas: PainArea::ALL,
        pain_durations: PainDuration::ALL,
        days: Days::ALL,
    }
}

/// The form as posted. Every field defaults to empty so that a missing field
/// is reported by validation, by name, like an empty one.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InquiryInput {
    name: String,
    phone: String,
    email: String,
    preferred_channel: String,
    window_days: String,
    window_start: String,
    window_end: String,
    time_zone: String,
    pain_area: String,
    pain_duration: String,
    message: String,
    consent: Option<String>,
}

pub async fn submit_inquiry(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: PublicPage,
    Form(input): Form<InquiryInput>,
) -> Result<Response, AppError> {
    let form = InquiryForm {
        name: input.name,
        phone: input.phone,
        email: input.email,
        preferred_channel: input.preferred_channel,
        window_days: input.window_days,
        window_start: input.window_start,
        window_end: input.window_end,
        time_zone: input.time_zone,
        pain_area: input.pain_area,
        pain_duration: input.pain_duration,
        message: input.message,
        consent: input.consent.is_some_and(|v| v == "yes" || v == "on"),
    };
    match form.validate(&state.config.clinic_region) {
        Ok(inquiry) => {
            // Committed before we answer: an acknowledged inquiry is on disk.
            // A person who wrote before joins their open thread.
            let contact = state
                .store
                .stamped(&audit)
                .record_web_inquiry(&inquiry, page.now, &repeat_note(&inquiry))
                .await?;
            let mut response = Redirect::to("/inquiries/thanks").into_response();
            response
                .extensions_mut()
                .insert(AuditedRecord(contact.inquiry_id.to_string()));
            Ok(response)
        }
        Err(errors) => {
            // Keep the time zone list valid even if the posted zone is junk.
            let mut form = form;
            if jiff::tz::TimeZone::get(form.time_zone.trim()).is_err() {
                form.time_zone = state.config.clinic_time_zone.clone();
            }
            render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &home_page(&page, form, errors),
            )
        }
    }
}

#[derive(Template)]
#[template(path = "thanks.html")]
struct ThanksPage<'a> {
    clinic: &'a ClinicFacts,
}

pub async fn thanks(page: PublicPage) -> Result<Response, AppError> {
    render(&ThanksPage {
        clinic: &page.clinic,
    })
}

#[derive(Template)]
#[template(path = "treatment.html")]
struct TreatmentPage<'a> {
    clinic: &'a ClinicFacts,
}

/// `GET /treatment`: what chronic pain is, what the clinic treats, how
/// ketamine acts and at what doses, what the evidence says, the safeguards,
/// the other parts of care and how to start — each with its source
/// (shared/clinical/education.md).
pub async fn treatment(page: PublicPage) -> Result<Response, AppError> {
    render(&TreatmentPage {
        clinic: &page.clinic,
    })
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage<'a> {
    clinic: &'a ClinicFacts,
}

/// `GET /privacy`: the clinic's whole privacy notice (clinic settings).
pub async fn privacy(page: PublicPage) -> Result<Response, AppError> {
    render(&PrivacyPage {
        clinic: &page.clinic,
    })
}

/// The site's icon (`/static/favicon.svg`, and `/favicon.ico` for the
/// browsers and tools that ask there without reading the page's link).
pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/favicon.svg"),
    )
        .into_response()
}

/// Liveness and database reachability.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(Health {
            status: "ok",
            database: "ok",
        })
        .into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    database: "unreachable",
                }),
            )
                .into_response()
        }
    }
}

#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/site.css"),
    )
        .into_response()
}

/// No route answers. A page address with a trailing slash (`/staff/`, as
/// SPEC §3 writes it; `/portal/`, `/fhir/` alike) is sent to the same
/// address without it, where the route table decides; anything else is 404.
pub async fn not_found(method: Method, uri: Uri) -> Result<Response, AppError> {
    let path = uri.path();
    let trimmed = path.trim_end_matches('/');
    // Never `//host`: a protocol-relative address would leave the site.
    let same_site =
        trimmed.starts_with('/') && !trimmed.starts_with("//") && !trimmed.contains('\\');
    if (method == Method::GET || method == Method::HEAD) && trimmed != path && same_site {
        let query = uri.query().map_or_else(String::new, |q| format!("?{q}"));
        return Ok(Redirect::permanent(&format!("{trimmed}{query}")).into_response());
    }
    Err(AppError::NoRoute)
}

/// The thread's message when a form joins the person's open thread: what
/// the form said, for staff to read.
fn repeat_note(inquiry: &respite_domain::inquiry::NewInquiry) -> String {
    let windows = inquiry
        .windows
        .iter()
        .map(crate::words::common::window_words)
        .collect::<Vec<_>>()
        .join("; ");
    let mut body = format!(
        "Contact form from {}; best times {} ({}); pain: {}, {}.",
        inquiry.name,
        windows,
        inquiry.time_zone,
        inquiry
            .pain_area
            .map_or_else(|| "not given".to_owned(), |a| a.label().to_lowercase()),
        inquiry
            .pain_duration
            .map_or_else(|| "not given".to_owned(), |d| d.label().to_lowercase()),
    );
    if !inquiry.message.trim().is_empty() {
        body.push_str("\n\n");
        body.push_str(inquiry.message.trim());
    }
    body
}
