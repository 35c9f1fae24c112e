//! The web layer of Respite: HTTP routes, sign-in, access control, CSRF,
//! audit of every access to health data, and server-rendered pages.
//!
//! Only this crate knows HTTP. Every route is listed once in [`routes`], with
//! the access it needs; [`access::authorize`] is the one function that
//! decides, and the one place that writes the audit entry.

pub mod access;
pub mod auth;
pub mod booking_token;
pub mod charts;
pub mod client;
pub mod connections;
mod csrf;
pub mod email;
mod error;
pub mod headers;
mod ical;
pub mod jobs;
pub mod limits;
mod multipart;
mod pages;
pub mod portal_auth;
pub mod questionnaire_schedule;
pub mod questionnaires;
pub mod routes;
pub mod sms;
pub mod twilio;
pub mod words;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use respite_store::Store;
use tokio::net::TcpListener;

pub use error::AppError;

/// Settings of the web application; defaults suit the demo.
#[derive(Clone, Debug)]
pub struct WebConfig {
    pub clinic_name: String,
    /// ISO 3166-1 alpha-2 region in which phone numbers without a country
    /// code are read.
    pub clinic_region: String,
    /// The clinic's IANA time zone.
    pub clinic_time_zone: String,
    /// Automatic logoff after this long without a request (HIPAA
    /// §164.312(a)(2)(iii) "automatic logoff"; 15 minutes is common practice).
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, whatever the activity.
    pub absolute_timeout: Duration,
    /// Failed sign-ins are counted per account *and* source address within
    /// `lockout_window`. Up to `lockout_threshold` failures cost nothing;
    /// after that the pair waits `lockout_first_delay`, doubled for each
    /// further failure, at most `lockout_window`, since its last failure.
    /// Other addresses (the person who knows the password) are not slowed.
    /// Defaults: 5, 15 minutes, 30 seconds.
    pub lockout_threshold: i64,
    pub lockout_window: Duration,
    pub lockout_first_delay: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client; empty: the
    /// peer is the client.
    pub trusted_proxies: client::TrustedProxies,
    /// Requests per source address on the public forms, the booking
    /// routes, the webhooks and sign-in (per process).
    pub rate_limits: limits::RateLimits,
    /// Served over HTTPS (`respite serve` sets it when `--public-url` is
    /// `https://…`): cookies are `Secure` with the `__Host-` prefix, and
    /// responses carry `Strict-Transport-Security`.
    pub secure_cookies: bool,
    /// After this many unanswered callback attempts (no answer, voicemail)
    /// an inquiry closes as "no answer". A clinic setting, not a clinical
    /// rule; default 3.
    pub unanswered_attempts_before_closing: i64,
    /// Where the callback pages read the time: the system clock, or a fixed
    /// instant so that tests see a known queue order.
    pub clock: Clock,
    /// Texts and calls through Twilio (webhooks and outbound SMS).
    pub messaging: MessagingConfig,
    /// Where staff e-mail replies are sent; `None`: replies are refused.
    pub smtp: Option<respite_mail::smtp::SmtpSettings>,
    /// When consultation reminders go out.
    pub reminders: ReminderConfig,
    /// How many public bookings one source address (the client's IP) may
    /// make in 24 hours, so that one client cannot hoard the slots. A
    /// clinic setting; default 3.
    pub bookings_per_source_per_day: i64,
    /// How many sign-in password checks (argon2, 19 MiB each) run and wait
    /// at once.
    pub password_checks: auth::PasswordCheckLimits,
    /// Header-read and request timeouts, and the cap on open connections.
    pub connections: connections::ConnectionLimits,
    /// Without a mail server, portal sign-in e-mails are written here as
    /// files instead (`respite demo` only: its throw-away clinic has no
    /// mail server, and its browser test reads the link there). `None`:
    /// such e-mails are not sent.
    pub mail_outbox: Option<std::path::PathBuf>,
}

/// Reminders of a booked consultation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReminderConfig {
    /// How long before the call each reminder is due; default 24 h and 1 h.
    pub before: Vec<jiff::SignedDuration>,
    /// No text goes out in these hours of the person's own clock; default
    /// 21:00–08:00.
    pub quiet_hours: respite_domain::booking::QuietHours,
}

impl Default for ReminderConfig {
    fn default() -> ReminderConfig {
        ReminderConfig {
            before: vec![
                jiff::SignedDuration::from_hours(24),
                jiff::SignedDuration::from_hours(1),
            ],
            quiet_hours: respite_domain::booking::QuietHours::default(),
        }
    }
}

/// The clock of the pages whose content depends on the time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    System,
    Fixed(jiff::Timestamp),
}

impl Clock {
    pub fn now(self) -> jiff::Timestamp {
        match self {
            Clock::System => jiff::Timestamp::now(),
            Clock::Fixed(at) => at,
        }
    }
}

/// Settings of the SMS/voice provider (Twilio). Without an auth token and a
/// public URL the webhooks refuse every request (nothing can be verified);
/// without an account SID and a sending number no text can be sent.
#[derive(Clone)]
pub struct MessagingConfig {
    /// The URL the provider reaches this server at, e.g.
    /// `https://clinic.example.org`: signatures cover the full URL.
    pub public_url: Option<String>,
    pub twilio_auth_token: Option<String>,
    pub twilio_account_sid: Option<String>,
    /// The clinic's sending number, E.164.
    pub twilio_from: Option<String>,
    /// Base URL of Twilio's REST API; tests point it at a local server.
    pub twilio_api_url: String,
    /// The number a HELP reply tells people to call.
    pub clinic_phone: String,
}

impl Default for MessagingConfig {
    fn default() -> MessagingConfig {
        MessagingConfig {
            public_url: None,
            twilio_auth_token: None,
            twilio_account_sid: None,
            twilio_from: None,
            twilio_api_url: "https://api.twilio.com".to_owned(),
            clinic_phone: String::new(),
        }
    }
}

impl std::fmt::Debug for MessagingConfig {
    // The auth token is a secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessagingConfig")
            .field("public_url", &self.public_url)
            .field(
                "twilio_auth_token",
                &self.twilio_auth_token.as_ref().map(|_| "***"),
            )
            .field("twilio_account_sid", &self.twilio_account_sid)
            .field("twilio_from", &self.twilio_from)
            .field("twilio_api_url", &self.twilio_api_url)
            .field("clinic_phone", &self.clinic_phone)
            .finish()
    }
}

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig {
            clinic_name: "Respite Pain Clinic".to_owned(),
            clinic_region: "US".to_owned(),
            clinic_time_zone: "America/Los_Angeles".to_owned(),
            idle_timeout: Duration::from_secs(15 * 60),
            absolute_timeout: Duration::from_secs(12 * 60 * 60),
            lockout_threshold: 5,
            lockout_window: Duration::from_secs(15 * 60),
            lockout_first_delay: Duration::from_secs(30),
            trusted_proxies: client::TrustedProxies::default(),
            rate_limits: limits::RateLimits::default(),
            secure_cookies: false,
            unanswered_attempts_before_closing: 3,
            clock: Clock::System,
            messaging: MessagingConfig::default(),
            reminders: ReminderConfig::default(),
            smtp: None,
            bookings_per_source_per_day: 3,
            password_checks: auth::PasswordCheckLimits::default(),
            connections: connections::ConnectionLimits::default(),
            mail_outbox: None,
        }
    }
}

/// What every handler can reach. Holds no per-request state: everything that
/// must survive a request lives in the database.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    /// Sends texts: Twilio's REST API when configured.
    pub sms: Arc<dyn sms::SmsSender>,
    /// `config.clinic_time_zone`, parsed once at start-up (UTC, with a
    /// warning, when the name is not an IANA zone).
    pub clinic_zone: jiff::tz::TimeZone,
    /// The bounded pool every sign-in's password check runs on.
    pub passwords: Arc<auth::PasswordChecks>,
}

impl AppState {
    /// This state with its store stamped with a request's audit entry
    /// (`Store::stamped`): the first write through it commits with the
    /// entry. For handlers whose write happens in a helper that takes the
    /// state (a text or e-mail sent from an inquiry).
    pub fn stamped(&self, stamp: &respite_store::AuditStamp) -> AppState {
        AppState {
            store: self.store.stamped(stamp),
            ..self.clone()
        }
    }

    /// The state for `store` and `config`, with the SMS sender the
    /// configuration names.
    pub fn new(store: Store, config: Arc<WebConfig>) -> AppState {
        let sms = sms::sender_from_config(&config.messaging);
        let clinic_zone = jiff::tz::TimeZone::get(&config.clinic_time_zone).unwrap_or_else(|err| {
            tracing::warn!(zone = %config.clinic_time_zone, error = %err, "clinic time zone unknown: times shown in UTC");
            jiff::tz::TimeZone::UTC
        });
        let passwords = Arc::new(auth::PasswordChecks::new(config.password_checks));
        AppState {
            store,
            config,
            sms,
            clinic_zone,
            passwords,
        }
    }
}

/// The application with every route, access check and layer.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

/// Serves until `shutdown` resolves, with the connection limits of the
/// configuration (see [`connections`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config.connections;
    connections::serve(listener, app(state), limits, shutdown).await
}
