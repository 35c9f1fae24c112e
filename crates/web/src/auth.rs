//! Staff sign-in: argon2id password hashes, server-side sessions in the
//! database, automatic logoff, and back-off after failed attempts.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use jiff::{SignedDuration, Timestamp};
use respite_store::{StaffUser, Store, StoreResult};
use sha2::{Digest, Sha256};

pub use crate::headers::CookieNames;
use crate::WebConfig;

/// The session cookie's name over plain HTTP; over HTTPS it is
/// `__Host-respite_session` ([`CookieNames`]).
pub const SESSION_COOKIE: &str = "respite_session";

/// The shortest password we accept for staff: NIST SP 800-63B §5.1.1.2 asks
/// for at least 8 characters; we ask for 12 for accounts that reach health
/// data.
pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("password: must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("password: must be at most 1024 characters")]
    TooLong,
    #[error("password: could not be hashed")]
    Hashing,
}

/// Hashes a password with argon2id (RFC 9106), the argon2 crate's defaults
/// (m = 19 MiB, t = 2, p = 1: OWASP's recommended minimum), and a random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > 1024 {
        return Err(PasswordError::TooLong);
    }
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|_| PasswordError::Hashing)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hashing)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// Whether `password` matches a stored hash. A malformed hash never matches.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Bounds on the argon2 work of sign-ins: each check holds 19 MiB for
/// tens of milliseconds, so unbounded concurrency turns a burst of failed
/// sign-ins into gigabytes of memory. At most `workers` checks run at once
/// and at most `queue` more wait; beyond that a sign-in is answered 503 with
/// `Retry-After` without hashing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordCheckLimits {
    /// Checks that run at once; default: the number of CPUs.
    pub workers: usize,
    /// Checks that may wait for a worker; default: four per worker.
    pub queue: usize,
}

impl Default for PasswordCheckLimits {
    fn default() -> PasswordCheckLimits {
        let workers = std::thread::available_parallelism().map_or(2, usize::from);
        PasswordCheckLimits {
            workers,
            queue: 4 * workers,
        }
    }
}

/// The sign-in could not be checked now: every worker is busy and the queue
/// is full. Answered 503 with `Retry-After`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("sign-in: the server is busy checking other sign-ins; try again in a moment")]
pub struct PasswordChecksBusy;

/// The one way a sign-in runs argon2: on the blocking pool, a bounded number
/// at a time, with a bounded number waiting. Shared by every request of one
/// process (each server bounds its own memory).
#[derive(Debug)]
pub struct PasswordChecks {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    queue: usize,
}

impl PasswordChecks {
    pub fn new(limits: PasswordCheckLimits) -> PasswordChecks {
        PasswordChecks {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(limits.workers.max(1))),
            waiting: std::sync::Arc::default(),
            queue: limits.queue,
        }
    }

    /// Whether `password` matches `stored_hash`, checked by a worker.
    /// `None` (no such account) costs the same, against a decoy hash, so
    /// that timing does not reveal which accounts exist.
    pub async fn verify(
        &self,
        password: String,
        stored_hash: Option<String>,
    ) -> Result<bool, PasswordChecksBusy> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let _waiting = QueueSeat::take(&self.waiting, self.queue)?;
                self.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| PasswordChecksBusy)?
            }
        };
        // The permit moves into the blocking task: if the request is
        // dropped meanwhile, the worker stays counted until argon2 is done.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match stored_hash {
                Some(hash) => verify_password(&password, &hash),
                None => {
                    verify_password(&password, decoy_hash());
                    false
                }
            }
        })
        .await
        .map_err(|_| PasswordChecksBusy)
    }
}

/// A place in the queue of waiting checks, given back when dropped (also
/// when the waiting request is cancelled).
struct QueueSeat<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> QueueSeat<'a> {
    fn take(
        waiting: &'a std::sync::atomic::AtomicUsize,
        queue: usize,
    ) -> Result<QueueSeat<'a>, PasswordChecksBusy> {
        use std::sync::atomic::Ordering::SeqCst;
        waiting
            .fetch_update(SeqCst, SeqCst, |n| (n < queue).then_some(n + 1))
            .map(|_| QueueSeat(waiting))
            .map_err(|_| PasswordChecksBusy)
    }
}

impl Drop for QueueSeat<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// How long more an account must wait before the next sign-in from a
/// source with `failures` within the window: nothing up to the threshold,
/// then the first delay doubled for each failure beyond it, at most the
/// window, counted from the latest failure.
pub fn sign_in_wait(
    failures: &respite_store::LoginFailures,
    config: &WebConfig,
    now: Timestamp,
) -> Option<SignedDuration> {
    let beyond = failures.count - config.lockout_threshold;
    let latest = failures.latest?;
    if beyond < 0 {
        return None;
    }
    let doublings = u32::try_from(beyond).unwrap_or(u32::MAX).min(20);
    let delay = config
        .lockout_first_delay
        .saturating_mul(1 << doublings)
        .min(config.lockout_window);
    let wait = (latest + signed(delay)).duration_since(now);
    wait.is_positive().then_some(wait)
}

/// Random bytes as lower-case hex, from the operating system's generator.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // getrandom fails only when the OS has no entropy source at all; then
    // no session can be made safely, and the zero token below is refused.
    if getrandom::getrandom(&mut buf).is_err() {
        return String::new();
    }
    hex::encode(buf)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The value of the cookie `name` in a request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` header: HttpOnly, SameSite=Strict, path /.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<u64>, secure: bool) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age_secs {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    // Names and values are ours (hex tokens), so always valid header text.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", Some(0), secure)
}

/// A signed-in staff member, put in the request by the access check.
#[derive(Clone, Debug)]
pub struct StaffSession {
    pub user: StaffUser,
    pub token_hash: String,
}

/// The staff member behind a request's session cookie, if the session is
/// live: not idle longer than the idle timeout, not older than the absolute
/// timeout, and the user still active. Expired sessions are deleted.
pub async fn current_session(
    store: &Store,
    config: &WebConfig,
    headers: &HeaderMap,
    now: Timestamp,
) -> StoreResult<Option<StaffSession>> {
    let name = CookieNames::new(config.secure_cookies).session;
    let Some(token) = cookie(headers, name).filter(|t| t.len() == 64) else {
        return Ok(None);
    };
    let hash = token_hash(token);
    let Some(session) = store.session(&hash).await? else {
        return Ok(None);
    };
    let idle = now.duration_since(session.last_seen_at);
    let age = now.duration_since(session.created_at);
    let expired = idle > signed(config.idle_timeout) || age > signed(config.absolute_timeout);
    if expired || !session.user.active {
        store.delete_session(&hash).await?;
        return Ok(None);
    }
    // Refresh the idle clock at most every few seconds, not on every request.
    if idle > SignedDuration::from_secs(5) {
        store.touch_session(&hash, now).await?;
    }
    Ok(Some(StaffSession {
        user: session.user,
        token_hash: hash,
    }))
}

pub fn signed(duration: std::time::Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX)
}

/// Adds a session cookie to a response's headers.
pub fn session_cookie_header(headers: &mut HeaderMap, token: &str, config: &WebConfig) {
    let names = CookieNames::new(config.secure_cookies);
    headers.append(
        SET_COOKIE,
        set_cookie(
            names.session,
            token,
            Some(config.absolute_timeout.as_secs()),
            names.secure,
        ),
    );
}

/// A hash to verify against when the e-mail is unknown, so that a wrong
/// e-mail costs the same time as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy-password-never-used").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hashes_verify_and_reject() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort));
    }

    #[tokio::test]
    async fn password_checks_beyond_the_queue_are_refused_at_once() {
        let hash = hash_password("correct horse battery").unwrap();
        let checks = std::sync::Arc::new(PasswordChecks::new(PasswordCheckLimits {
            workers: 1,
            queue: 2,
        }));
        let attempts = (0..12).map(|_| {
            let checks = checks.clone();
            let hash = hash.clone();
            tokio::spawn(async move { checks.verify("wrong password!".into(), Some(hash)).await })
        });
        let mut checked = 0;
        let mut busy = 0;
        for attempt in attempts.collect::<Vec<_>>() {
            match attempt.await.unwrap() {
                Ok(matches) => {
                    assert!(!matches);
                    checked += 1;
                }
                Err(PasswordChecksBusy) => busy += 1,
            }
        }
        // One running and two waiting at most when the burst arrives.
        assert!((1..=3).contains(&checked), "{checked} checked");
        assert_eq!(checked + busy, 12);
        assert_eq!(
            checks
                .verify("correct horse battery".into(), Some(hash))
                .await,
            Ok(true),
            "the queue is free again after the burst"
        );
    }

    #[test]
    fn sign_in_delays_grow_from_the_threshold_and_stop_at_the_window() {
        let config = WebConfig::default();
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        let wait = |count: i64, seconds_ago: i64| {
            sign_in_wait(
                &respite_store::LoginFailures {
                    count,
                    latest: Some(now - SignedDuration::from_secs(seconds_ago)),
                },
                &config,
                now,
            )
            .map(|wait| wait.as_secs())
        };
        assert_eq!(wait(4, 0), None, "below the threshold: free");
        assert_eq!(wait(5, 0), Some(30));
        assert_eq!(wait(5, 10), Some(20));
        assert_eq!(wait(5, 30), None, "the delay has passed");
        assert_eq!(wait(6, 0), Some(60));
        assert_eq!(wait(8, 0), Some(240));
        assert_eq!(wait(20, 0), Some(15 * 60), "at most the window");
        assert_eq!(wait(1_000_000, 0), Some(15 * 60));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; respite_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
