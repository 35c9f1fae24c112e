//! CSRF protection for every state-changing form: a double-submit token (a
//! random cookie that each form repeats in a hidden `csrf` field), plus the
//! browser's Fetch Metadata (`Sec-Fetch-Site`) refusing cross-site posts.
//! OWASP CSRF Prevention Cheat Sheet: "Signed double-submit cookie" and
//! "Fetch Metadata headers".

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::header::SET_COOKIE;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::{cookie, random_hex, set_cookie};
use crate::error::page;

/// The CSRF cookie's name over plain HTTP; over HTTPS it is
/// `__Host-respite_csrf` (`headers::CookieNames`).
pub const CSRF_COOKIE: &str = "respite_csrf";
pub const CSRF_FIELD: &str = "csrf";
/// The largest form body we read: a complete inquiry is a few kilobytes.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The request's CSRF token, for templates to put in their forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// Checks unsafe requests and hands the token to handlers. Webhooks are not
/// behind this layer: they carry the provider's signature instead.
pub async fn protect(request: Request, next: Next) -> Response {
    let names = crate::headers::CookieNames::of(request.extensions());
    let existing = cookie(request.headers(), names.csrf)
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
        if cross_site {
            return page(
                StatusCode::FORBIDDEN,
                "Refused",
                "csrf: cross-site form posts are refused.",
            );
        }
        let (parts, body) = request.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "form: the form is larger than 64 KiB.",
            );
        };
        let submitted = form_field(&bytes, CSRF_FIELD);
        let valid = match (&existing, &submitted) {
            (Some(expected), Some(given)) => {
                constant_time_eq(expected.as_bytes(), given.as_bytes())
            }
            _ => false,
        };
        if !valid {
            return page(
                StatusCode::FORBIDDEN,
                "Please reload the page",
                "csrf: the form's security token is missing or out of date. Reload the page and send it again.",
            );
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }

    let (token, fresh) = match existing {
        Some(token) => (token, false),
        None => (random_hex(16), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    if fresh {
        // A session cookie (no Max-Age): it lives as long as the browser.
        response.headers_mut().append(
            SET_COOKIE,
            set_cookie(names.csrf, &token, None, names.secure),
        );
    }
    response
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
