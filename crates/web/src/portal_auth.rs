//! The patient portal's sign-in (SPEC §2, patient role): a single-use link
//! that expires, sent by e-mail or text through the job queue; an optional
//! password (argon2id on the bounded pool of `auth::PasswordChecks`);
//! sessions in the database with the staff sessions' idle and absolute
//! timeouts, under a cookie of their own.
//!
//! The link's token is made by the job that sends it and only its SHA-256 is
//! stored (`portal_links.token_hash`); spending it is one conditional UPDATE,
//! so a link signs in once, before it expires, whatever races it.

use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use jiff::{SignedDuration, Timestamp};
use respite_store::{Store, StoreResult};

use crate::auth::{cookie, random_hex, set_cookie, signed, token_hash};
use crate::headers::CookieNames;
use crate::WebConfig;

/// The portal session cookie's name over plain HTTP; over HTTPS it is
/// `__Host-respite_portal`.
pub const PORTAL_COOKIE: &str = "respite_portal";

/// How long a sign-in link is valid after it is sent, by default (a clinic
/// setting, `portal_link_minutes`).
pub const DEFAULT_LINK_MINUTES: i64 = 30;
/// The setting that holds the link lifetime in minutes.
pub const LINK_MINUTES_SETTING: &str = "portal_link_minutes";

/// A signed-in patient, put in the request by the access check.
#[derive(Clone, Debug)]
pub struct PortalSession {
    pub patient_id: i64,
    pub token_hash: String,
}

/// The patient behind a request's portal cookie, if the session is live
/// (the staff sessions' idle and absolute timeouts). Expired sessions are
/// deleted.
pub async fn current_portal_session(
    store: &Store,
    config: &WebConfig,
    headers: &HeaderMap,
    now: Timestamp,
) -> StoreResult<Option<PortalSession>> {
    let name = CookieNames::new(config.secure_cookies).portal;
    let Some(token) = cookie(headers, name).filter(|t| t.len() == 64) else {
        return Ok(None);
    };
    let hash = token_hash(token);
    let Some(session) = store.portal_session(&hash).await? else {
        return Ok(None);
    };
    let idle = now.duration_since(session.last_seen_at);
    let age = now.duration_since(session.created_at);
    if idle > signed(config.idle_timeout) || age > signed(config.absolute_timeout) {
        store.delete_portal_session(&hash).await?;
        return Ok(None);
    }
    if idle > SignedDuration::from_secs(5) {
        store.touch_portal_session(&hash, now).await?;
    }
    Ok(Some(PortalSession {
        patient_id: session.patient_id,
        token_hash: hash,
    }))
}

/// A fresh session token: (the token for the cookie, its hash to store).
pub fn new_token() -> (String, String) {
    let token = random_hex(32);
    let hash = token_hash(&token);
    (token, hash)
}

/// Adds the portal session cookie to a response's headers.
pub fn portal_cookie_header(headers: &mut HeaderMap, token: &str, config: &WebConfig) {
    let names = CookieNames::new(config.secure_cookies);
    headers.append(
        SET_COOKIE,
        set_cookie(
            names.portal,
            token,
            Some(config.absolute_timeout.as_secs()),
            names.secure,
        ),
    );
}

/// Clears the portal session cookie.
pub fn clear_portal_cookie(headers: &mut HeaderMap, config: &WebConfig) {
    let names = CookieNames::new(config.secure_cookies);
    headers.append(
        SET_COOKIE,
        crate::auth::clear_cookie(names.portal, names.secure),
    );
}

/// The link lifetime: the clinic's setting, else the default; at least 1
/// and at most 24 h.
pub async fn link_lifetime(store: &Store) -> StoreResult<SignedDuration> {
    let minutes = store
        .setting(LINK_MINUTES_SETTING)
        .await?
        .and_then(|text| text.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_LINK_MINUTES)
        .clamp(1, 24 * 60);
    Ok(SignedDuration::from_mins(minutes))
}
