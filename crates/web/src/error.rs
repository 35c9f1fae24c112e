//! The one way out for errors (the shape of axum's `examples/error-handling`):
//! every handler, extractor, the access guard and the CSRF layer return an
//! [`AppError`], and [`AppError::into_response`] alone writes the words and
//! the status a person sees. Client errors name the field and the rule;
//! server errors are logged with a reference and shown without internals.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use respite_store::StoreError;

use crate::booking_token::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No session on a staff route (401). With `return_to` (a GET), the
    /// person is sent to the sign-in page, which brings them back there.
    #[error("session: sign in to continue")]
    Unauthorised { return_to: Option<String> },
    /// The signed-in role does not grant the route's permission (403).
    #[error("role: the {role} role does not give access to this page")]
    Forbidden { role: &'static str },
    /// A record named by the path does not exist (404).
    #[error("not found")]
    NotFound,
    /// No route answers this address (404).
    #[error("no route")]
    NoRoute,
    /// A form or query field breaks a rule (422).
    #[error("{field}: {message}")]
    BadRequest {
        field: &'static str,
        message: String,
    },
    /// A change that collides with the current state (409), e.g. a slot
    /// taken since the page was shown.
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// A booking link that is forged (403), expired or outdated (410).
    #[error("{0}")]
    LinkRefused(TokenError),
    /// A message refused before it left: no consent, opted out, no mail
    /// server (409). The text names the rule.
    #[error("{0}")]
    NotSent(String),
    /// The provider did not take a message (502). The text names the
    /// channel and contains no message content.
    #[error("{0}")]
    ProviderFailed(String),
    /// A dependency is down: the database, the audit trail (503).
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// A form body over the limit (413).
    #[error("form: the form is larger than 64 KiB")]
    TooLarge,
    /// An upload's body over the most any clinic setting allows (413).
    #[error("file: the upload is larger than {0} MiB")]
    UploadTooLarge(usize),
    /// An unsafe request refused by the CSRF layer (403).
    #[error("csrf: {0:?}")]
    Csrf(CsrfRefusal),
    /// A provider's webhook without a valid signature (403), answered in
    /// plain text: the caller is a machine.
    #[error("X-Twilio-Signature: {0}")]
    SignatureRefused(&'static str),
    /// A signed webhook whose parameters break a rule (400), in plain text.
    #[error("{field}: {rule}")]
    BadWebhook { field: &'static str, rule: String },
    /// A state the code does not expect (500), e.g. a layer missing.
    #[error("internal: {0}")]
    Internal(&'static str),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
}

/// Why the CSRF layer refused an unsafe request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrfRefusal {
    /// `Sec-Fetch-Site: cross-site`.
    CrossSite,
    /// The form's token is missing, does not match the cookie, or was not
    /// signed for the request's session.
    Token,
    /// `Origin` (or `Referer`) names another site than the clinic's.
    ForeignOrigin,
}

impl From<TokenError> for AppError {
    fn from(err: TokenError) -> AppError {
        AppError::LinkRefused(err)
    }
}

/// A domain rule broken by one field of a form (422).
impl From<respite_domain::inquiry::FieldError> for AppError {
    fn from(err: respite_domain::inquiry::FieldError) -> AppError {
        AppError::BadRequest {
            field: err.field,
            message: err.message,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Unauthorised {
                return_to: Some(path),
            } => Redirect::to(&format!("/staff/login?next={}", percent_encode_path(&path)))
                .into_response(),
            AppError::Unauthorised { return_to: None } => page(
                StatusCode::UNAUTHORIZED,
                "Please sign in",
                "Please sign in to continue.",
            ),
            AppError::Forbidden { role } => {
                let mut response = page(
                    StatusCode::FORBIDDEN,
                    "Not allowed",
                    &format!("The {role} role does not give access to this page."),
                );
                // A handler's refusal by role (a part of a page the role may
                // not see) is audited as denied, like the guard's.
                response
                    .extensions_mut()
                    .insert(crate::access::RefusedByRole);
                response
            }
            AppError::NotFound => {
                page(StatusCode::NOT_FOUND, "Not found", "There is nothing here.")
            }
            AppError::NoRoute => page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing at this address.",
            ),
            AppError::BadRequest { field, message } => page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Please check your input",
                &refusal(field, &message),
            ),
            AppError::Conflict { field, message } => page(
                StatusCode::CONFLICT,
                "Please check your input",
                &refusal(field, &message),
            ),
            AppError::Store(StoreError::RegisterNotFound) => {
                page(StatusCode::NOT_FOUND, "Not found", "There is nothing here.")
            }
            AppError::Store(err) if conflict(&err).is_some() => {
                let (field, message) = conflict(&err).unwrap_or_default();
                page(
                    StatusCode::CONFLICT,
                    "Please check your input",
                    &refusal(field, &message),
                )
            }
            AppError::LinkRefused(err) => {
                let status = match err {
                    TokenError::Forged => StatusCode::FORBIDDEN,
                    TokenError::Expired | TokenError::Moved => StatusCode::GONE,
                };
                page(status, "This link cannot be used", &link_refusal(err))
            }
            AppError::NotSent(reason) => page(
                StatusCode::CONFLICT,
                "Not sent",
                &format!("{reason}. Nothing was sent."),
            ),
            AppError::ProviderFailed(reason) => page(
                StatusCode::BAD_GATEWAY,
                "Not sent",
                &format!("{reason}. Nothing was sent; try again later."),
            ),
            AppError::Unavailable(message) => {
                page(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", message)
            }
            AppError::TooLarge => page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "The form is larger than 64 KiB; shorten it and send it again.",
            ),
            AppError::UploadTooLarge(mib) => page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                &format!(
                    "file: the upload is larger than {mib} MiB, the most this server accepts; \
                     the clinic's own limit is on the upload form."
                ),
            ),
            AppError::Csrf(CsrfRefusal::CrossSite) => page(
                StatusCode::FORBIDDEN,
                "Refused",
                "Forms sent from other sites are refused.",
            ),
            AppError::Csrf(CsrfRefusal::ForeignOrigin) => page(
                StatusCode::FORBIDDEN,
                "Refused",
                "Forms are accepted from this clinic's own pages only; this one came from another site.",
            ),
            AppError::Csrf(CsrfRefusal::Token) => page(
                StatusCode::FORBIDDEN,
                "Please reload the page",
                "The form's security token is missing or out of date. Reload the page and send it again.",
            ),
            AppError::SignatureRefused(rule) => {
                plain_text(StatusCode::FORBIDDEN, "X-Twilio-Signature", rule)
            }
            AppError::BadWebhook { field, rule } => {
                plain_text(StatusCode::BAD_REQUEST, field, &rule)
            }
            other @ (AppError::Internal(_) | AppError::Store(_) | AppError::Template(_)) => {
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

/// A refused field in words: the field named as people know it, then the
/// rule ("Your booking link: this consultation is no longer booked…").
fn refusal(field: &str, message: &str) -> String {
    format!(
        "{}: {}.",
        crate::words::public::field_label(field),
        message.trim_end_matches('.')
    )
}

/// Why a booking link cannot be used, in words.
fn link_refusal(err: TokenError) -> String {
    let rule = err.to_string();
    let rule = rule.strip_prefix("token: ").unwrap_or(&rule);
    format!("{}.", crate::words::public::sentence(rule))
}

/// The words for a store error that is the person's to resolve (409): the
/// field and the rule. `None` for a server error.
pub fn conflict(err: &StoreError) -> Option<(&'static str, String)> {
    let (field, message) = match err {
        StoreError::StaffEmailTaken(email) => (
            "email",
            format!("a staff user with the e-mail {email} exists already"),
        ),
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
        StoreError::NoteChanged { latest } => (
            "version",
            format!(
                "someone saved version {latest} while you were editing; \
                 read it, then edit again"
            ),
        ),
        StoreError::AvailabilityOverlaps { starts, ends } => (
            "starts",
            format!("overlaps this staff member's interval {starts}–{ends} on the same day"),
        ),
        StoreError::RegisterRefused { field, message } => (*field, message.clone()),
        _ => return None,
    };
    Some((field, message))
}

/// An error page's title and message, kept on its response so that the
/// layer of `pages::errors` can show it again inside the navigation that
/// fits the visitor.
#[derive(Clone, Debug)]
pub struct ErrorPage {
    pub title: String,
    pub message: String,
    /// The ways on (href, words) when not the usual ones (the portal's:
    /// the patient's own page, help).
    pub links: Vec<(String, String)>,
}

/// The minimal page of every error and refusal, without the site template
/// so that it cannot fail itself. Also the one-line confirmation of a
/// cancelled consultation.
pub fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let mut response = page_with_links(
        status,
        title,
        message,
        &[("/", "Clinic home"), ("/staff", "Staff")],
    );
    if let Some(page) = response.extensions_mut().get_mut::<ErrorPage>() {
        page.links.clear();
    }
    response
}

/// [`page`] with its own ways on (href, words), e.g. the portal's sign-in
/// for a patient rather than the staff application.
pub fn page_with_links(
    status: StatusCode,
    title: &str,
    message: &str,
    links: &[(&str, &str)],
) -> Response {
    let own_links = links
        .iter()
        .map(|(href, words)| ((*href).to_owned(), (*words).to_owned()))
        .collect();
    let links = links
        .iter()
        .map(|(href, words)| format!("<a href=\"{}\">{}</a>", escape(href), escape(words)))
        .collect::<Vec<_>>()
        .join(" · ");
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/static/site.css\"></head>\
         <body><main class=\"narrow\"><h1>{title}</h1><p class=\"error-message\">{}</p>\
         <p>{links}</p></main></body></html>",
        escape(message)
    );
    let mut response = (status, Html(body)).into_response();
    response.extensions_mut().insert(ErrorPage {
        title: title.to_owned(),
        message: message.to_owned(),
        links: own_links,
    });
    response
}

/// A refusal for a machine caller (a provider's webhook): `field: rule`.
fn plain_text(status: StatusCode, field: &str, rule: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{field}: {rule}\n"),
    )
        .into_response()
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

fn percent_encode_path(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
