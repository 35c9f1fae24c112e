//! CSRF protection for every state-changing form: a double-submit token (a
//! random cookie that each form repeats in a hidden `csrf` field), plus the
//! browser's Fetch Metadata (`Sec-Fetch-Site`) refusing cross-site posts.
//! OWASP CSRF Prevention Cheat Sheet: "Signed double-submit cookie" and
//! "Fetch Metadata headers".

use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{cookie, random_hex, set_cookie};
use crate::error::CsrfRefusal;
use crate::{AppError, AppState};

pub const CSRF_COOKIE: &str = "respite_csrf";
pub const CSRF_FIELD: &str = "csrf";
/// The largest form body we read: a complete inquiry is a few kilobytes.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The request's CSRF token, for templates to put in their forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// Checks unsafe requests and hands the token to handlers. Webhooks are not
/// behind this layer: they carry the provider's signature instead. A refused
/// request to an audited route is audited as denied: the route's own guard
/// never sees it.
pub async fn protect(State(app): State<AppState>, request: Request, next: Next) -> Response {
    match check(request).await {
        Ok((request, token, fresh)) => {
            let mut response = next.run(request).await;
            if fresh {
                // A session cookie (no Max-Age): it lives as long as the browser.
                response
                    .headers_mut()
                    .append(SET_COOKIE, set_cookie(CSRF_COOKIE, &token, None, false));
            }
            response
        }
        Err((mut parts, refusal)) => {
            let spec = parts
                .extensions
                .get::<MatchedPath>()
                .and_then(|path| crate::routes::spec_of(parts.method.as_str(), path.as_str()));
            if let Some(spec) = spec {
                crate::access::audit_refusal(&app, spec, &mut parts).await;
            }
            refusal.into_response()
        }
    }
}

/// The request with its token (and whether the token is new), or the
/// request's head and why it is refused.
async fn check(
    request: Request,
) -> Result<(Request, String, bool), (axum::http::request::Parts, AppError)> {
    let existing = cookie(request.headers(), CSRF_COOKIE)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );

    let mut request = request;
    if unsafe_method {
        let cross_site = request
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site == "cross-site");
        let (parts, body) = request.into_parts();
        if cross_site {
            return Err((parts, AppError::Csrf(CsrfRefusal::CrossSite)));
        }
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return Err((parts, AppError::TooLarge));
        };
        let submitted = form_field(&bytes, CSRF_FIELD);
        let valid = match (&existing, &submitted) {
            (Some(expected), Some(given)) => {
                constant_time_eq(expected.as_bytes(), given.as_bytes())
            }
            _ => false,
        };
        if !valid {
            return Err((parts, AppError::Csrf(CsrfRefusal::Token)));
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }

    let (token, fresh) = match existing {
        Some(token) => (token, false),
        None => (random_hex(16), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    Ok((request, token, fresh))
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
