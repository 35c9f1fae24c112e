//! The one application error type. Client errors name the field and the rule;
//! server errors are logged with a reference and shown without internals.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use respite_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("{field}: {message}")]
    BadRequest {
        field: &'static str,
        message: String,
    },
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => {
                page(StatusCode::NOT_FOUND, "Not found", "There is nothing here.")
            }
            AppError::BadRequest { field, message } => page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Please check your input",
                &format!("{field}: {message}"),
            ),
            AppError::Store(err) if conflict(&err).is_some() => {
                let (field, message) = conflict(&err).unwrap_or_default();
                page(
                    StatusCode::CONFLICT,
                    "Please check your input",
                    &format!("{field}: {message}"),
                )
            }
            other => {
                let reference = crate::auth::random_hex(6);
                // The error text can carry SQL, never health data: queries
                // bind values as parameters.
                tracing::error!(%reference, error = %other, "request failed");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    &format!("The server could not finish this request. Reference: {reference}."),
                )
            }
        }
    }
}

/// The words for a store error that is the person's to resolve (409): the
/// field and the rule. `None` for a server error.
pub fn conflict(err: &StoreError) -> Option<(&'static str, String)> {
    let (field, message) = match err {
        StoreError::Conflict { field, message } => (*field, message.clone()),
        StoreError::SlotTaken => (
            "slot",
            "this time was just taken by someone else; please choose another time".into(),
        ),
        StoreError::InquiryClosed => (
            "inquiry",
            "is closed or does not exist; reopen it before booking".into(),
        ),
        StoreError::CallbackDone => ("callback", "is already done; nothing was recorded".into()),
        StoreError::AlreadyConverted => (
            "inquiry",
            "has already been converted to a patient chart".into(),
        ),
        StoreError::NoConsultationNote => (
            "consultation_note",
            "record the consultation before converting the inquiry to a chart".into(),
        ),
        StoreError::NotACandidate => (
            "consultation_note",
            "the latest consultation found the person not a candidate; \
             record a new consultation note to convert"
                .into(),
        ),
        StoreError::ClosedReasonMismatch => (
            "closed_reason",
            "is required to close a thread, and only then".into(),
        ),
        StoreError::WeekdayMismatch => (
            "weekday",
            "every interval must be of the weekday being replaced".into(),
        ),
        StoreError::HolidayExists(day) => ("day", format!("{day} is a holiday already")),
        StoreError::AvailabilityOverlaps { starts, ends } => (
            "starts",
            format!("overlaps this staff member's interval {starts}–{ends} on the same day"),
        ),
        _ => return None,
    };
    Some((field, message))
}

/// A minimal page for errors and refusals, without the site template so that
/// it cannot fail itself.
pub fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/static/site.css\"></head>\
         <body><main class=\"narrow\"><h1>{title}</h1><p class=\"error-message\">{}</p>\
         <p><a href=\"/\">Clinic home</a> · <a href=\"/staff\">Staff</a></p></main></body></html>",
        escape(message)
    );
    (status, Html(body)).into_response()
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
