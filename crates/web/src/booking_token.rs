//! The link that lets a person see, reschedule or cancel their consultation
//! without an account: `ID.EXPIRES.MAC`, where EXPIRES is Unix milliseconds
//! and MAC is HMAC-SHA256 (RFC 2104, FIPS 180-4) over `consultation:ID.EXPIRES`
//! with a server secret kept in `clinic_settings`, so that every server
//! sharing the database accepts the links of the others.
//!
//! A link expires when its consultation begins: EXPIRES is the start the
//! link was made for. A reschedule moves the start, so every link made
//! before it names a time the consultation no longer has and is refused
//! ([`still_current`], 410): only the latest confirmation's link works.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

use crate::AppState;

/// The setting that holds the secret (64 hex digits, made on first use).
pub const SECRET_SETTING: &str = "booking_link_secret";

/// Why a link is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token: this link is not valid; use the link from your confirmation")]
    Forged,
    #[error("token: this link has expired; call the clinic to change your consultation")]
    Expired,
    /// The consultation was moved after the link was made: only the link of
    /// the latest confirmation names it.
    #[error("token: this link is from before your consultation was moved; use the link in your latest confirmation")]
    Moved,
}

/// The server's signing secret, created on first use.
pub async fn secret(state: &AppState) -> Result<Vec<u8>, respite_store::StoreError> {
    let fresh = crate::auth::random_hex(32);
    let stored = state
        .store
        .setting_or_insert(SECRET_SETTING, &fresh)
        .await?;
    Ok(stored.into_bytes())
}

/// The token for consultation `id`, valid until `expires`.
pub fn sign(secret: &[u8], id: i64, expires: Timestamp) -> String {
    let payload = format!("{id}.{}", expires.as_millisecond());
    format!("{payload}.{}", hex::encode(mac(secret, &payload)))
}

/// The consultation id a token names, if its MAC verifies and it has not
/// expired at `now`.
pub fn verify(secret: &[u8], token: &str, now: Timestamp) -> Result<i64, TokenError> {
    let mut parts = token.trim().splitn(3, '.');
    let (Some(id), Some(expires), Some(given)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Forged);
    };
    let given = hex::decode(given).map_err(|_| TokenError::Forged)?;
    let payload = format!("{id}.{expires}");
    let mut check = new_mac(secret);
    check.update(b"consultation:");
    check.update(payload.as_bytes());
    // Constant-time comparison.
    check.verify_slice(&given).map_err(|_| TokenError::Forged)?;
    let id: i64 = id.parse().map_err(|_| TokenError::Forged)?;
    let expires: i64 = expires.parse().map_err(|_| TokenError::Forged)?;
    if now.as_millisecond() >= expires {
        return Err(TokenError::Expired);
    }
    Ok(id)
}

/// Whether a verified `token` was made for the consultation's current
/// start `starts_at`; a link from before a reschedule is [`TokenError::Moved`].
pub fn still_current(token: &str, starts_at: Timestamp) -> Result<(), TokenError> {
    let made_for = token
        .trim()
        .split('.')
        .nth(1)
        .and_then(|expires| expires.parse::<i64>().ok())
        .ok_or(TokenError::Forged)?;
    if made_for == starts_at.as_millisecond() {
        Ok(())
    } else {
        Err(TokenError::Moved)
    }
}

fn new_mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!())
}

fn mac(secret: &[u8], payload: &str) -> Vec<u8> {
    let mut mac = new_mac(secret);
    mac.update(b"consultation:");
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire_and_not_when_altered() {
        let secret = b"0123456789abcdef";
        let expires: Timestamp = "2026-12-01T17:00Z".parse().unwrap();
        let before: Timestamp = "2026-11-30T00:00Z".parse().unwrap();
        let token = sign(secret, 42, expires);
        assert_eq!(verify(secret, &token, before), Ok(42));
        assert_eq!(verify(secret, &token, expires), Err(TokenError::Expired));
        assert_eq!(
            verify(b"another secret", &token, before),
            Err(TokenError::Forged)
        );
        let later = token.replacen(&expires.as_millisecond().to_string(), "1999999999999", 1);
        assert_eq!(verify(secret, &later, before), Err(TokenError::Forged));
        let other = token.replacen("42.", "43.", 1);
        assert_eq!(verify(secret, &other, before), Err(TokenError::Forged));
        assert_eq!(still_current(&token, expires), Ok(()));
        assert_eq!(
            still_current(&token, expires + jiff::SignedDuration::from_mins(15)),
            Err(TokenError::Moved)
        );
        for junk in ["", "42", "42.1", "a.b.c", "42.1.zz"] {
            assert_eq!(
                verify(secret, junk, before),
                Err(TokenError::Forged),
                "{junk}"
            );
        }
    }
}
