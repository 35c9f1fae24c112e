//! Security headers on every response, the page scripts served as files,
//! and the names cookies carry.
//!
//! - `Content-Security-Policy`: scripts, styles, images and forms from this
//!   site only, no inline script or style, no framing (`frame-ancestors
//!   'none'`, with `X-Frame-Options: DENY` for older browsers).
//! - `X-Content-Type-Options: nosniff`.
//! - `Referrer-Policy: no-referrer`: booking links carry their token in the
//!   query, which must not leak to another site.
//! - `Cache-Control: no-store` on everything but `/static/…`: pages hold
//!   health data or tokens, and a shared computer's cache must not keep them.
//! - `Strict-Transport-Security` when the clinic is served over HTTPS.

use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{Extensions, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The policy of every response. `form-action 'self'`: a form can post
/// only here; `base-uri 'none'`: an injected `<base>` cannot redirect
/// relative links.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// One year, the value HSTS preload lists ask for at least.
const HSTS_VALUE: &str = "max-age=31536000";

/// Whether the clinic is served over HTTPS (`WebConfig::secure_cookies`,
/// which `respite serve` sets when `--public-url` is `https://…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Https(pub bool);

/// The names and flags of the cookies, by whether the site is served over
/// HTTPS. Over HTTPS they are `Secure` and carry the `__Host-` prefix, which
/// browsers accept only from a secure origin, with `Path=/` and no
/// `Domain`: a sibling site or a plain-HTTP response cannot set or shadow
/// them (RFC 6265bis §4.1.3.2). Over plain HTTP (the demo, tests) the names
/// stay `respite_session` and `respite_csrf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    /// The patient portal's session: a name of its own, so that a staff
    /// member and a patient on one browser never share a session.
    pub portal: &'static str,
    pub secure: bool,
}

impl CookieNames {
    pub fn new(https: bool) -> CookieNames {
        if https {
            CookieNames {
                session: "__Host-respite_session",
                csrf: "__Host-respite_csrf",
                portal: "__Host-respite_portal",
                secure: true,
            }
        } else {
            CookieNames {
                session: crate::auth::SESSION_COOKIE,
                csrf: crate::csrf::CSRF_COOKIE,
                portal: crate::portal_auth::PORTAL_COOKIE,
                secure: false,
            }
        }
    }

    /// The names for a request, from the [`Https`] that [`secure`] put in
    /// its extensions.
    pub fn of(extensions: &Extensions) -> CookieNames {
        CookieNames::new(extensions.get::<Https>().is_some_and(|https| https.0))
    }
}

/// Adds the security headers to every response.
pub async fn secure(State(https): State<Https>, mut request: Request, next: Next) -> Response {
    let static_file = request.uri().path().starts_with("/static/");
    request.extensions_mut().insert(https);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !static_file {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https.0 {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS_VALUE),
        );
    }
    response
}

/// The inquiry form's script (preselects the visitor's time zone).
pub async fn home_script() -> Response {
    script(include_str!("../static/home.js"))
}

/// The booking page's script (times in the visitor's zone).
pub async fn book_script() -> Response {
    script(include_str!("../static/book.js"))
}

fn script(source: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        source,
    )
        .into_response()
}
