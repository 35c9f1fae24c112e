//! CSRF protection for every state-changing form, three checks deep (OWASP
//! CSRF Prevention Cheat Sheet):
//!
//! 1. Fetch Metadata: `Sec-Fetch-Site: cross-site` is refused.
//! 2. Origin: an `Origin` (or, without one, a `Referer`) that is not this
//!    clinic's own address is refused ("Verifying origin with standard
//!    headers"). A request with neither is let through to the next check:
//!    clients that are not browsers send neither, and browsers send
//!    `Origin: null` on a same-origin post when the page's referrer policy is
//!    `no-referrer`, so `null` counts as no `Origin`.
//! 3. A signed double-submit token ("Signed double-submit cookie"): the
//!    token is `NONCE.MAC`, MAC = HMAC-SHA256 (RFC 2104, FIPS 180-4) with a
//!    server secret over the session binding and the nonce. The binding is
//!    the hash of the staff session token the request carries, or the empty
//!    string before sign-in. Each form repeats the cookie's token in a
//!    hidden `csrf` field; the two must be equal and the MAC must verify for
//!    the request's own session. So a cookie and field chosen by an attacker
//!    are refused, and so is a token minted for another session. Sign-in and
//!    sign-out set a fresh token bound to the new session ([`issue_for`]).
//!
//! The secret is kept in `clinic_settings` like the booking links' secret
//! (created on first use; every server sharing the database agrees on it)
//! and read once per process.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{HOST, ORIGIN, REFERER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::{cookie, random_hex, set_cookie, token_hash};
use crate::error::CsrfRefusal;
use crate::headers::CookieNames;
use crate::{AppError, AppState};

/// The CSRF cookie's name over plain HTTP; over HTTPS it is
/// `__Host-respite_csrf` (`headers::CookieNames`).
pub const CSRF_COOKIE: &str = "respite_csrf";
pub const CSRF_FIELD: &str = "csrf";
/// The largest form body we read: a complete inquiry is a few kilobytes.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// The largest file a clinic may allow in its settings (the screening
/// settings page refuses more), and the largest body an upload route reads:
/// that file and the form's other fields.
pub const MAX_UPLOAD_FILE_BYTES: usize = 50 * 1024 * 1024;
pub const MAX_UPLOAD_BODY_BYTES: usize = MAX_UPLOAD_FILE_BYTES + MAX_FORM_BYTES;
/// The setting that holds the signing secret (64 hex digits, made on first
/// use). Not the booking links' secret: one key per purpose.
pub const SECRET_SETTING: &str = "csrf_token_secret";

/// The request's CSRF token, for templates to put in their forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// The layer's state: the application, and the signing secret once read.
#[derive(Clone)]
pub struct Protection {
    app: AppState,
    secret: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl Protection {
    pub fn new(app: AppState) -> Protection {
        Protection {
            app,
            secret: Arc::default(),
        }
    }
}

/// Checks unsafe requests and hands the token to handlers. Webhooks are not
/// behind this layer: they carry the provider's signature instead. A refused
/// request to an audited route is audited as denied: the route's own guard
/// never sees it.
pub async fn protect(
    State(protection): State<Protection>,
    request: Request,
    next: Next,
) -> Response {
    let app = &protection.app;
    let secret = match protection.secret.get_or_try_init(|| secret(app)).await {
        Ok(secret) => secret.as_slice(),
        Err(err) => return AppError::from(err).into_response(),
    };
    let names = CookieNames::new(app.config.secure_cookies);
    match check(
        request,
        secret,
        app.config.messaging.public_url.as_deref(),
        names,
    )
    .await
    {
        Ok((request, token, fresh)) => {
            let mut response = next.run(request).await;
            // A handler that changed the session (sign-in, sign-out) has set
            // the token of the new session already.
            if fresh && !sets_cookie(response.headers(), names.csrf) {
                response
                    .headers_mut()
                    .append(SET_COOKIE, token_cookie(&token, app));
            }
            response
        }
        Err((mut parts, refusal)) => {
            let spec = parts
                .extensions
                .get::<MatchedPath>()
                .and_then(|path| crate::routes::spec_of(parts.method.as_str(), path.as_str()));
            if let Some(spec) = spec {
                crate::access::audit_refusal(app, spec, &mut parts).await;
            }
            // A portal page left open across a sign-in or sign-out (another
            // tab) holds the old session's token: the patient is led back to
            // their page, not to "reload", which would send the form again.
            let portal = spec.is_some_and(|spec| spec.access == crate::access::Access::Patient);
            if portal && matches!(refusal, AppError::Csrf(CsrfRefusal::Token)) {
                return crate::error::page_with_links(
                    axum::http::StatusCode::FORBIDDEN,
                    "Please open your page again",
                    "This page was open from before you signed in or out, so its answer was \
                     not sent. The answers you saved before are kept.",
                    &[
                        ("/portal/", "Open your page"),
                        ("/portal/crisis", "Need help now?"),
                    ],
                );
            }
            refusal.into_response()
        }
    }
}

/// The `Set-Cookie` value of a fresh token bound to the session whose token
/// hash is `session_token_hash` (`None`: signed out). The sign-in handler
/// sets it with the new session's cookie and the sign-out handler with the
/// cleared one, so that no token from before survives the change.
pub async fn issue_for(
    state: &AppState,
    session_token_hash: Option<&str>,
) -> Result<HeaderValue, AppError> {
    let secret = secret(state).await?;
    let token = sign(&secret, session_token_hash.unwrap_or(""), &random_hex(16));
    Ok(token_cookie(&token, state))
}

/// The server's signing secret: read, or created when the database has none.
async fn secret(state: &AppState) -> Result<Vec<u8>, respite_store::StoreError> {
    // A read first: every server start and sign-in would otherwise write.
    if let Some(stored) = state.store.setting(SECRET_SETTING).await? {
        return Ok(stored.into_bytes());
    }
    let fresh = random_hex(32);
    let stored = state
        .store
        .setting_or_insert(SECRET_SETTING, &fresh)
        .await?;
    Ok(stored.into_bytes())
}

/// A session cookie (no Max-Age): it lives as long as the browser.
fn token_cookie(token: &str, state: &AppState) -> HeaderValue {
    let names = CookieNames::new(state.config.secure_cookies);
    set_cookie(names.csrf, token, None, names.secure)
}

/// What a token is bound to: the hash of the request's staff session token,
/// or the empty string when it carries none. The cookie is read as sent, not
/// looked up: an expired session keeps its binding until the browser signs
/// in again, which sets a new one.
fn binding_of(headers: &HeaderMap, names: CookieNames) -> String {
    let staff = cookie(headers, names.session)
        .filter(|token| token.len() == 64)
        .map(token_hash)
        .unwrap_or_default();
    let portal = cookie(headers, names.portal)
        .filter(|token| token.len() == 64)
        .map(token_hash);
    binding(&staff, portal.as_deref())
}

/// The binding of a token to the request's sessions: the staff session's
/// token hash, and the patient portal's after it when there is one (so a
/// token minted before a patient signed in is refused after).
fn binding(staff: &str, portal: Option<&str>) -> String {
    match portal {
        Some(portal) => format!("{staff}/portal:{portal}"),
        None => staff.to_owned(),
    }
}

/// The `Set-Cookie` value of a fresh token for a request whose headers are
/// `headers`, once its portal session is `portal_token_hash` (`None`:
/// signed out of the portal). The portal's sign-in and sign-out set it.
pub async fn issue_for_portal(
    state: &AppState,
    headers: &HeaderMap,
    portal_token_hash: Option<&str>,
) -> Result<HeaderValue, AppError> {
    let names = CookieNames::new(state.config.secure_cookies);
    let staff = cookie(headers, names.session)
        .filter(|token| token.len() == 64)
        .map(token_hash)
        .unwrap_or_default();
    let secret = secret(state).await?;
    let token = sign(
        &secret,
        &binding(&staff, portal_token_hash),
        &random_hex(16),
    );
    Ok(token_cookie(&token, state))
}

/// The token with nonce `nonce` bound to `binding`.
fn sign(secret: &[u8], binding: &str, nonce: &str) -> String {
    format!("{nonce}.{}", hex::encode(mac(secret, binding, nonce)))
}

/// Whether `token` was signed with `secret` for `binding`.
fn verify(secret: &[u8], binding: &str, token: &str) -> bool {
    let Some((nonce, given)) = token.split_once('.') else {
        return false;
    };
    if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let Ok(given) = hex::decode(given) else {
        return false;
    };
    // Constant-time comparison.
    keyed(secret, binding, nonce).verify_slice(&given).is_ok()
}

fn mac(secret: &[u8], binding: &str, nonce: &str) -> Vec<u8> {
    keyed(secret, binding, nonce)
        .finalize()
        .into_bytes()
        .to_vec()
}

/// HMAC over `csrf:BINDING!NONCE`: both are hex, so `!` cannot occur in
/// either and the message is read back one way only.
fn keyed(secret: &[u8], binding: &str, nonce: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(b"csrf:");
    mac.update(binding.as_bytes());
    mac.update(b"!");
    mac.update(nonce.as_bytes());
    mac
}

/// The request with its token (and whether the token is new), or the
/// request's head and why it is refused.
async fn check(
    request: Request,
    secret: &[u8],
    public_url: Option<&str>,
    names: CookieNames,
) -> Result<(Request, String, bool), (axum::http::request::Parts, AppError)> {
    let binding = binding_of(request.headers(), names);
    let existing = cookie(request.headers(), names.csrf)
        .filter(|token| verify(secret, &binding, token))
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
        let foreign = origin_is_foreign(request.headers(), public_url);
        let (parts, body) = request.into_parts();
        if cross_site {
            return Err((parts, AppError::Csrf(CsrfRefusal::CrossSite)));
        }
        if foreign {
            return Err((parts, AppError::Csrf(CsrfRefusal::ForeignOrigin)));
        }
        // An upload route reads a file with its form (multipart); every
        // other route a small url-encoded form.
        let upload = parts
            .extensions
            .get::<MatchedPath>()
            .is_some_and(|path| crate::routes::is_upload(parts.method.as_str(), path.as_str()));
        let limit = if upload {
            MAX_UPLOAD_BODY_BYTES
        } else {
            MAX_FORM_BYTES
        };
        let Ok(bytes) = to_bytes(body, limit).await else {
            let error = if upload {
                AppError::UploadTooLarge(MAX_UPLOAD_FILE_BYTES / (1024 * 1024))
            } else {
                AppError::TooLarge
            };
            return Err((parts, error));
        };
        let multipart = parts
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|t| upload && crate::multipart::boundary(t).is_some())
            .map(str::to_owned);
        let submitted = match multipart {
            Some(content_type) => crate::multipart::parse(&content_type, &bytes)
                .ok()
                .and_then(|form| {
                    form.into_iter()
                        .find(|part| part.name == CSRF_FIELD && part.file_name.is_none())
                        .map(|part| part.text())
                }),
            None => form_field(&bytes, CSRF_FIELD),
        };
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
        None => (sign(secret, &binding, &random_hex(16)), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    Ok((request, token, fresh))
}

/// Whether the request names an origin other than this clinic's: the
/// configured public URL's origin, or, when none is configured, `http` or
/// `https` on the request's own `Host`. `Origin` is read first, `Referer`
/// when there is no `Origin` (or it is `null`); with neither, nothing is
/// foreign. An origin that cannot be read, or that cannot be compared
/// (no public URL and no `Host`), is foreign: deny unless granted.
fn origin_is_foreign(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let Some(given) = text(ORIGIN)
        .filter(|origin| *origin != "null")
        .or_else(|| text(REFERER))
    else {
        return false;
    };
    let Ok(given) = url::Url::parse(given.trim()) else {
        return true;
    };
    let expected = match public_url {
        Some(public_url) => url::Url::parse(public_url).ok(),
        None => text(HOST)
            .filter(|_| matches!(given.scheme(), "http" | "https"))
            .and_then(|host| url::Url::parse(&format!("{}://{host}", given.scheme())).ok()),
    };
    // Opaque origins (e.g. `data:`) equal nothing, not even themselves.
    expected.is_none_or(|expected| expected.origin() != given.origin())
}

/// Whether a response sets the cookie `name`.
fn sets_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.split_once('=').is_some_and(|(key, _)| key == name))
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

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NONCE: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn tokens_verify_for_their_own_binding_only() {
        let session = token_hash(&"a".repeat(64));
        let token = sign(SECRET, &session, NONCE);
        assert!(verify(SECRET, &session, &token));
        assert!(!verify(SECRET, "", &token), "signed-out binding");
        assert!(!verify(SECRET, &token_hash(&"b".repeat(64)), &token));
        assert!(!verify(b"another secret", &session, &token));
        let anonymous = sign(SECRET, "", NONCE);
        assert!(verify(SECRET, "", &anonymous));
        assert!(!verify(SECRET, &session, &anonymous), "not after sign-in");
        let other_nonce = token.replacen(NONCE, "ffffffffffffffffffffffffffffffff", 1);
        assert!(!verify(SECRET, &session, &other_nonce));
        for junk in ["", NONCE, "0123456789abcdef0123456789abcdef", ".", "x.y"] {
            assert!(!verify(SECRET, &session, junk), "{junk}");
        }
    }

    fn headers(pairs: &[(axum::http::HeaderName, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn origins_must_be_the_clinics_own() {
        // Each case: Origin, Referer, public URL, whether foreign; the
        // request's Host is clinic.example.org:8080.
        let check = |origin: Option<&str>, referer: Option<&str>, public_url, foreign: bool| {
            let mut pairs = vec![(HOST, "clinic.example.org:8080")];
            pairs.extend(origin.map(|origin| (ORIGIN, origin)));
            pairs.extend(referer.map(|referer| (REFERER, referer)));
            assert_eq!(
                origin_is_foreign(&headers(&pairs), public_url),
                foreign,
                "{pairs:?} {public_url:?}"
            );
        };
        // The request's own host, on http or https.
        check(None, None, None, false);
        check(Some("http://clinic.example.org:8080"), None, None, false);
        check(Some("https://clinic.example.org:8080"), None, None, false);
        check(Some("http://clinic.example.org"), None, None, true);
        check(Some("https://evil.example"), None, None, true);
        check(Some("ftp://clinic.example.org:8080"), None, None, true);
        check(Some("not a url"), None, None, true);
        // Referer only without Origin; `null` is no Origin.
        let page = "http://clinic.example.org:8080/staff/inquiries/1";
        check(None, Some(page), None, false);
        check(None, Some("https://evil.example/x"), None, true);
        check(Some("null"), None, None, false);
        check(Some("null"), Some("https://evil.example/"), None, true);
        // A configured public URL is the only origin.
        let public = Some("https://clinic.example.org/");
        check(Some("https://clinic.example.org"), None, public, false);
        check(Some("https://clinic.example.org:443"), None, public, false);
        check(Some("http://clinic.example.org"), None, public, true);
        check(Some("http://clinic.example.org:8080"), None, public, true);
        check(Some("data:text/html,x"), None, public, true);
        // Without a public URL or a Host nothing can match.
        let origin = headers(&[(ORIGIN, "http://clinic.example.org:8080")]);
        assert!(origin_is_foreign(&origin, None));
    }
}
