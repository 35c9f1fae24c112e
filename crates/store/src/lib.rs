//! Storage for Respite on embedded SQLite or on PostgreSQL, from one code base.
//!
//! Only this crate knows SQL, and only it knows which engine it talks to. It
//! uses sqlx's `Any` driver: queries are written once in the SQL both engines
//! share (`$1` parameters, `RETURNING`, integer milliseconds for times), and
//! the few places where the dialects differ (the audit lock) branch on
//! [`Engine`]. Migrations are kept per engine under `migrations/`.

mod audit;
mod audit_keys;
mod bookings;
mod callback_queue;
pub mod chart;
mod clinic_profile;
mod clinical;
mod consents;
mod consultation_notes;
mod courses;
mod decisions;
pub mod demo;
mod inquiries;
mod jobs;
mod lists;
mod messages;
mod orders;
mod outcomes;
mod patients;
mod plans;
mod portal;
mod questionnaire_schedule;
mod register;
mod results;
mod schedule;
mod session_batch;
mod sessions;
mod staff;
mod threads;
mod worklist;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

pub use audit::{
    audit_checkpoint_path, AuditChainStatus, AuditCheckpoint, AuditCheckpointFile, AuditEntry,
    AuditFilter, AuditRecord, AuditStamp, Outcome,
};
pub use audit_keys::{
    AuditKey, AuditKeyError, AuditKeys, MissingKeyFile, AUDIT_KEY_ENV, AUDIT_KEY_FILE,
};
pub use bookings::{
    Booker, ChangedBy, ConsultationEventRecord, ConsultationFilter, ConsultationRecord,
};
pub use callback_queue::{
    AttemptPolicy, AttemptRecorded, CallbackKey, ContactAttemptRecord, NewContactAttempt,
    OpenCallback,
};
pub use chart::{
    ChartEntries, ChartFacts, ClinicScreeningSettings, EntryKind, EntryRef, FactEvidence,
};
pub use clinic_profile::ClinicProfileRecord;
pub use clinical::{ConditionRecord, InfusionSessionRecord, ObservationRecord};
pub use consents::{ConsentRecord, SmsPermission};
pub use consultation_notes::{
    medical_record_number, ConsultationCall, ConsultationCallRecord, ConsultationNoteRecord,
    ConvertedChart, NewChart,
};
pub use courses::{course_summary_queries, COURSE_REFRESH_BATCH};
pub use decisions::{
    CurrentDecision, DecisionContext, NewRecordsRequest, OverrideRecord, RecordsRequestRecord,
    ScreeningDecisionRecord,
};
pub use inquiries::{InquiryQuery, InquiryRecord};
pub use jobs::{Job, JobRecord, NewJob};
pub use messages::{InboundMessage, InboundOutcome, MessageRecord, OutboundMessage};
pub use results::{results_queries, ResultsPeriod, PAIN_LOINC};
// Domain concepts the store's callers name; they live in respite-domain.
pub use inquiries::AddressKind;
pub use lists::{PageAt, Paged};
pub use orders::{
    body_for, calculate_order, ceiling_code, CheckRefusal, InfusionOrderRecord, InfusionSettings,
    NewInfusionOrder, NewProtocolVersion, OrderCheck, OrderCheckRecord, OrderOverrideRecord,
    OrderReadiness, OrderRefusal, ProtocolVersionRecord, WeightReading,
};
pub use outcomes::{InfusionMark, OutcomeScore, PatientOutcomes};
pub use patients::{phone_digits, NewPatient, PatientQuery, PatientRecord, PatientSummary};
pub use plans::{PlanVersionSummary, StoredPlan, TreatmentPlanRecord};
pub use portal::{
    new_scores, AnswerRecord, AssignmentRecord, NewSafetyAlert, NewScore, PortalLinkRecord,
    PortalSessionRecord, SafetyAlertRecord, ScoreRecord, ESCALATION_KEY_PREFIX,
};
pub use questionnaire_schedule::{
    PortalAppointment, QuestionnaireLicence, QuestionnaireLicenceRecord, ScheduleFacts,
    ScheduledAssignment, ScheduledRecord, REMINDER_KEY_PREFIX,
};
pub use register::{
    BusinessTime, CountKind, CountRecord, DiscrepancyRecord, EntryKind as RegisterEntryKind,
    EntryRecord, NewDraw, NewReceipt, NewWaste, OpenDraw, RegisterSession, RegisterSettings,
    RescueDrawRefusal, VialRecord,
};
pub use respite_domain::consent::ConsentEffect;
pub use respite_domain::thread::{CallbackReason, ClosedReason, ContactAddress, InquiryStatus};
pub use schedule::AvailabilityRecord;
pub use sessions::{
    ordered_bolus_mg, ordered_pump_ml_h, vital_field, AlarmAcknowledgement, InfusionSession,
    RescueVialDraw, SessionAlarm, SessionEntry, SessionEvent, SessionRefusal, SessionSummary,
    ADVERSE_EVENT_CODES,
};
pub use staff::{LoginFailures, SessionRecord, StaffUser, MAX_STORED_EMAIL_CHARS};
pub use threads::{UnverifiedContact, VerifiedContact, WebContact};
pub use worklist::{WorkListEntry, WorkListPage};

/// Which database engine a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A database URL that names a supported engine: `sqlite://PATH` or
/// `postgres://…` (also `postgresql://…`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseUrl {
    engine: Engine,
    url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("database URL: is empty; give sqlite://PATH or postgres://USER@HOST/DB")]
    Empty,
    #[error("database URL: `{scheme}` is not a supported scheme; use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedScheme { scheme: String },
    #[error("database URL: sqlite:// needs a file path, e.g. sqlite://data/respite.sqlite")]
    MissingPath,
}

impl FromStr for DatabaseUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<DatabaseUrl, UrlError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(UrlError::Empty);
        }
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(UrlError::UnsupportedScheme {
                scheme: s.chars().take(20).collect(),
            });
        };
        match scheme {
            "sqlite" => {
                let path = rest.split('?').next().unwrap_or_default();
                if path.is_empty() {
                    return Err(UrlError::MissingPath);
                }
                // Create the file if missing; settings are applied per
                // connection in `Store::connect`.
                let url = if rest.contains('?') {
                    s.to_owned()
                } else {
                    format!("{s}?mode=rwc")
                };
                Ok(DatabaseUrl {
                    engine: Engine::Sqlite,
                    url,
                })
            }
            "postgres" | "postgresql" => Ok(DatabaseUrl {
                engine: Engine::Postgres,
                url: s.to_owned(),
            }),
            other => Err(UrlError::UnsupportedScheme {
                scheme: other.to_owned(),
            }),
        }
    }
}

impl DatabaseUrl {
    /// The URL of a SQLite database file.
    pub fn sqlite_file(path: &Path) -> DatabaseUrl {
        DatabaseUrl {
            engine: Engine::Sqlite,
            url: format!("sqlite://{}?mode=rwc", path.display()),
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The full URL, credentials included: for connecting, never for logs.
    pub fn connection_string(&self) -> &str {
        &self.url
    }

    /// The file of a SQLite URL, to create its folder before connecting.
    pub fn sqlite_path(&self) -> Option<&Path> {
        if self.engine != Engine::Sqlite {
            return None;
        }
        let rest = self.url.strip_prefix("sqlite://")?;
        Some(Path::new(rest.split('?').next().unwrap_or(rest)))
    }

    /// The URL without its password, for messages and logs: `user:***@`
    /// when the URL has a password, `user@` when it has none, and the value
    /// of a `password=` parameter masked.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.url.split_once("://") else {
            return self.url.clone();
        };
        // The authority ends at the path, query or fragment (RFC 3986 §3.2);
        // an `@` after it is not a separator of credentials.
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let authority = match authority.rsplit_once('@') {
            Some((credentials, host)) => match credentials.split_once(':') {
                Some((user, _password)) => format!("{user}:***@{host}"),
                None => format!("{credentials}@{host}"),
            },
            None => authority.to_owned(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                            format!("{key}=***")
                        }
                        _ => pair.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => tail.to_owned(),
        };
        format!("{scheme}://{authority}{tail}")
    }
}

/// An error from storage. Client mistakes that the database catches (a
/// duplicate e-mail) are their own variants; the rest is `Database`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Url(#[from] UrlError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A staff account with this e-mail exists already.
    #[error("email: a staff user with the e-mail {0} exists already")]
    StaffEmailTaken(String),
    /// The consultation slot is held by another booking.
    #[error("slot: is taken")]
    SlotTaken,
    /// Booking for an inquiry that is closed or does not exist.
    #[error("inquiry: is closed or does not exist")]
    InquiryClosed,
    /// A contact attempt on a callback task that is done.
    #[error("callback: is already done")]
    CallbackDone,
    /// The inquiry has a patient chart already.
    #[error("inquiry: is already converted to a chart")]
    AlreadyConverted,
    /// Converting an inquiry that has no consultation note.
    #[error("consultation_note: none is recorded")]
    NoConsultationNote,
    /// Converting an inquiry whose latest note found the person not a
    /// candidate.
    #[error("consultation_note: the latest says not a candidate")]
    NotACandidate,
    /// A status change to closed without a reason, or another with one.
    #[error("closed_reason: given with the wrong status")]
    ClosedReasonMismatch,
    /// Replacing one weekday's opening hours with hours of another.
    #[error("weekday: an interval is of another weekday")]
    WeekdayMismatch,
    /// The day is a holiday already.
    #[error("day: {0} is a holiday already")]
    HolidayExists(jiff::civil::Date),
    /// The person (by `kind`, phone or e-mail) has a booked consultation
    /// that has not begun, at `starts_at`.
    #[error("{}: has a booked consultation already", kind.as_str())]
    AlreadyBooked {
        kind: AddressKind,
        starts_at: jiff::Timestamp,
    },
    /// The source made `limit` public bookings in the last 24 hours.
    #[error("source: made {limit} bookings in 24 hours")]
    TooManyBookingsFromSource { limit: i64 },
    /// The availability overlaps the staff member's interval
    /// `starts`–`ends` (`HH:MM`) on the same weekday.
    #[error("starts: overlaps {starts}-{ends}")]
    AvailabilityOverlaps { starts: String, ends: String },
    /// A note or call record edited from a version that is no longer the
    /// latest: someone saved version `latest` meanwhile.
    #[error("version: another version ({latest}) was saved meanwhile")]
    NoteChanged { latest: i64 },
    /// An ICD-10-CM code that is not in the clinic's table.
    #[error("icd10cm_code: {0} is not in the clinic's ICD-10-CM table")]
    UnknownConditionCode(String),
    /// A register entry refused by the register's state (a balance that
    /// would go below zero, a draw accounted for, a resolved discrepancy):
    /// the field and the rule.
    #[error("{field}: {message}")]
    RegisterRefused {
        field: &'static str,
        message: String,
    },
    /// The vial or register entry named does not exist.
    #[error("register: no such vial or entry")]
    RegisterNotFound,
    #[error("stored value is not valid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The storage handle: a connection pool and the engine behind it. Cheap to
/// clone; all state lives in the database, so several servers can share one
/// PostgreSQL.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    /// Serialises audit appends within this process; PostgreSQL also takes
    /// an advisory lock so that several servers keep one chain.
    audit_lock: Arc<tokio::sync::Mutex<()>>,
    /// The audit keys, where the checkpoint goes, and how far verification
    /// got; set by `with_audit_key` and `with_audit_checkpoint`.
    audit: Arc<audit::AuditSeal>,
    /// The audit entry the next write appends in its transaction; set by
    /// `Store::stamped` on the request's copy of the store.
    stamp: Option<Arc<audit::AuditStamp>>,
}

/// How many pooled connections to open at most.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    pub max_connections: u32,
}

impl Default for PoolSettings {
    fn default() -> PoolSettings {
        PoolSettings {
            max_connections: 10,
        }
    }
}

impl Store {
    pub async fn connect(url: &DatabaseUrl, settings: PoolSettings) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        if let Some(path) = url.sqlite_path() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|err| {
                    StoreError::Database(sqlx::Error::Configuration(
                        format!("cannot create folder {}: {err}", dir.display()).into(),
                    ))
                })?;
            }
        }
        let engine = url.engine;
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL for concurrent readers; synchronous=FULL so a
                        // commit is on disk before we acknowledge it; foreign
                        // keys on; wait for a writer instead of failing.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url.url)
            .await?;
        Ok(Store {
            pool,
            engine,
            audit_lock: Arc::new(tokio::sync::Mutex::new(())),
            audit: Arc::new(audit::AuditSeal::unkeyed()),
            stamp: None,
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Brings the schema up to date with this engine's migrations, then
    /// seeds the protocol library, dated `now`, if it is empty.
    pub async fn migrate(&self, now: jiff::Timestamp) -> StoreResult<()> {
        match self.engine {
            Engine::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Engine::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        // The protocol library's first versions (dosing.md), dated when this
        // database was first brought up to date: an event of the install,
        // not of a page.
        self.seed_protocols(now).await?;
        Ok(())
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A clinic setting, e.g. the server's signing secret.
    pub async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let value: Option<(String,)> =
            sqlx::query_as("SELECT value FROM clinic_settings WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(value.map(|(v,)| v))
    }

    /// Stores `value` under `key` unless a value is there already; returns
    /// the value that is stored (so concurrent servers agree on one).
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO clinic_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        self.setting(key)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("setting {key} vanished")))
    }
}

/// Milliseconds since the Unix epoch, the stored form of every instant.
pub fn to_millis(at: jiff::Timestamp) -> i64 {
    at.as_millisecond()
}

pub fn from_millis(ms: i64) -> StoreResult<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(ms).map_err(|err| StoreError::Corrupt(err.to_string()))
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_name_their_engine_or_the_rule_they_break() {
        let sqlite: DatabaseUrl = "sqlite://data/respite.sqlite".parse().unwrap();
        assert_eq!(sqlite.engine(), Engine::Sqlite);
        assert_eq!(
            sqlite.connection_string(),
            "sqlite://data/respite.sqlite?mode=rwc"
        );
        assert_eq!(sqlite.sqlite_path(), Some(Path::new("data/respite.sqlite")));
        for url in ["postgres://u:p@h/db", "postgresql://h/db"] {
            assert_eq!(
                url.parse::<DatabaseUrl>().unwrap().engine(),
                Engine::Postgres
            );
        }
        let error = |url: &str| url.parse::<DatabaseUrl>().unwrap_err().to_string();
        assert!(error("").contains("is empty"));
        assert!(error("mysql://h/db").contains("`mysql` is not a supported scheme"));
        assert!(error("respite.sqlite").contains("is not a supported scheme"));
        assert!(error("sqlite://").contains("needs a file path"));
    }

    #[test]
    fn redacted_urls_hide_the_password() {
        let url: DatabaseUrl = "postgres://respite:s3cret@db.internal:5432/respite"
            .parse()
            .unwrap();
        assert_eq!(
            url.redacted(),
            "postgres://respite:***@db.internal:5432/respite"
        );
        assert!(!url.redacted().contains("s3cret"));
    }

    #[test]
    fn redacted_urls_without_a_password_show_none() {
        let check = |url: &str, expected: &str| {
            let url: DatabaseUrl = url.parse().unwrap();
            assert_eq!(url.redacted(), expected);
        };
        check(
            "postgres://respite@db.internal/respite",
            "postgres://respite@db.internal/respite",
        );
        check(
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=verify-full",
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=verify-full",
        );
        check(
            "postgres://db.internal/respite",
            "postgres://db.internal/respite",
        );
        check(
            "postgres://db.internal/respite?user=me&password=s3cret",
            "postgres://db.internal/respite?user=me&password=***",
        );
        // An `@` in the path or query is not a separator of credentials.
        check(
            "postgres://h/db?sslrootcert=/etc/ca@2.pem",
            "postgres://h/db?sslrootcert=/etc/ca@2.pem",
        );
        check(
            "sqlite://data/respite.sqlite",
            "sqlite://data/respite.sqlite?mode=rwc",
        );
    }
}
