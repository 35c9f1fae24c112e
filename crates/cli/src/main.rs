//! `respite`: the one binary. Each subcommand parses its flags, opens what it
//! needs, and calls the library crates; no logic of its own lives here.

mod commands;
mod instruments;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use respite_store::DatabaseUrl;

#[derive(Parser)]
#[command(
    name = "respite",
    version,
    about = "Respite: a clinic system for outpatient ketamine therapy of chronic pain"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the clinic (staff application, public page, portal, APIs).
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address to listen on.
        #[arg(long, env = "RESPITE_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        #[command(flatten)]
        messaging: MessagingArgs,
        #[command(flatten)]
        mail: Box<MailArgs>,
        #[command(flatten)]
        reminders: Box<ReminderArgs>,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// Serve a fresh database filled with a synthetic demo clinic, and print
    /// the URL and the demo logins. Takes the same e-mail settings as
    /// `serve`; without an SMTP server, portal e-mails are written to the
    /// demo's outbox folder.
    Demo {
        /// Address to listen on.
        #[arg(long, env = "RESPITE_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// The URL patients reach the demo at, for the links in its e-mails
        /// (and the origin forms must come from); default with an SMTP
        /// server: http:// and the address it listens on.
        #[arg(long, env = "RESPITE_PUBLIC_URL", value_parser = parse_public_url)]
        public_url: Option<String>,
        #[command(flatten)]
        mail: Box<MailArgs>,
    },
    /// Bring a database's schema up to date.
    Migrate {
        #[command(flatten)]
        db: DbArg,
    },
    /// Manage staff users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The ketamine pharmacokinetic simulator.
    Pk {
        #[command(subcommand)]
        command: PkCommand,
    },
    /// The validated questionnaires: with no subcommand, list them (id, name,
    /// LOINC, items in order, answer options, licence) as JSON.
    Instruments {
        #[command(subcommand)]
        command: Option<InstrumentsCommand>,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Every HTTP route as JSON, one object a line: method, path, who may
    /// use it (public, signed-in, staff with a permission, patient) and what
    /// it audits — the one route table the server is built from.
    Routes,
}

/// The audit trail's keyed hash chain. The keys come from
/// `RESPITE_AUDIT_KEY` or the file `audit.key` in the data directory, the
/// checkpoint from `audit.checkpoint` there (docs/ARCHITECTURE.md, audit).
#[derive(Subcommand)]
enum AuditCommand {
    /// Verify every entry of the chain and the signed checkpoint; exits
    /// non-zero naming the first entry that fails.
    Verify {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum InstrumentsCommand {
    /// Score one response: reads {"answers": …} on standard input (a list in
    /// item order with null for a missing answer; objects of lists for bpi and
    /// fiqr) and prints the score, band, flags and prorating as JSON. Exits
    /// non-zero naming the item and the rule when an answer is invalid.
    Score {
        /// nrs, peg, bpi, phq9, gad7, odi, hit6, fiqr or aldrete.
        #[arg(long)]
        instrument: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff user; the password is read from standard input (asked
    /// twice, without echo, on a terminal).
    Add {
        #[arg(long)]
        email: String,
        /// One of front-desk, nurse, clinician, admin.
        #[arg(long)]
        role: String,
        /// The name shown in the staff application (default: the e-mail).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum PkCommand {
    /// Simulate a dosing plan (JSON from FILE, or `-` for standard input) and
    /// print plasma and effect-site concentrations as JSON.
    Simulate {
        #[arg(long)]
        plan: String,
    },
    /// Propose a loading bolus and rate schedule that reaches and holds a target
    /// effect-site concentration within dose limits (JSON request from FILE, or
    /// `-` for standard input); prints the `pk simulate` output of the plan with
    /// its `doses`, `reached_at_min` and `warnings`. Exits non-zero, naming the
    /// limit, when the target cannot be reached and held.
    Target {
        #[arg(long)]
        plan: String,
    },
    /// List the models, their sources and validity ranges.
    Models,
}

#[derive(Args)]
struct DbArg {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (default: a
    /// SQLite file in the data directory).
    #[arg(long, env = "RESPITE_DB", value_parser = parse_db_url)]
    db: Option<DatabaseUrl>,
}

/// Texts and calls through Twilio. The auth token is read from the
/// environment only (`RESPITE_TWILIO_AUTH_TOKEN`), never from a flag, so that
/// it does not show in the process list.
#[derive(Args)]
struct MessagingArgs {
    /// The URL Twilio reaches this server at (webhook signatures cover it),
    /// e.g. https://clinic.example.org.
    #[arg(long, env = "RESPITE_PUBLIC_URL", value_parser = parse_public_url)]
    public_url: Option<String>,
    /// Twilio account SID, for sending texts.
    #[arg(long, env = "RESPITE_TWILIO_ACCOUNT_SID")]
    twilio_account_sid: Option<String>,
    /// The clinic's Twilio number texts are sent from.
    #[arg(long, env = "RESPITE_TWILIO_FROM", value_parser = parse_e164)]
    twilio_from: Option<String>,
    /// Base URL of Twilio's REST API.
    #[arg(long, env = "RESPITE_TWILIO_API_URL", default_value = "https://api.twilio.com", value_parser = parse_public_url)]
    twilio_api_url: String,
    /// The phone number a HELP text tells people to call.
    #[arg(long, env = "RESPITE_CLINIC_PHONE", default_value = "")]
    clinic_phone: String,
}

impl MessagingArgs {
    fn into_config(self) -> anyhow::Result<respite_web::MessagingConfig> {
        let twilio_auth_token = match std::env::var("RESPITE_TWILIO_AUTH_TOKEN") {
            Ok(token) if token.trim().is_empty() => None,
            Ok(token) => Some(token.trim().to_owned()),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                anyhow::bail!("RESPITE_TWILIO_AUTH_TOKEN: is not valid UTF-8")
            }
        };
        Ok(respite_web::MessagingConfig {
            public_url: self.public_url,
            twilio_auth_token,
            twilio_account_sid: self.twilio_account_sid,
            twilio_from: self.twilio_from,
            twilio_api_url: self.twilio_api_url,
            clinic_phone: self.clinic_phone,
        })
    }
}

/// Defences against abuse from the internet (docs/SECURITY.md).
#[derive(Args)]
struct SecurityArgs {
    /// Reverse proxies whose X-Forwarded-For names the client: addresses or
    /// CIDR networks, comma-separated (e.g. 127.0.0.1,10.0.0.0/8). Without
    /// it the header is ignored and the peer is the client.
    #[arg(long, env = "RESPITE_TRUSTED_PROXY", value_parser = parse_trusted_proxies, default_value = "")]
    trusted_proxy: respite_web::client::TrustedProxies,
    /// Inquiry forms per source address per minute (0: no limit).
    #[arg(long, env = "RESPITE_LIMIT_INQUIRIES_PER_MINUTE", default_value_t = 10)]
    limit_inquiries_per_minute: u32,
    /// Public bookings per source address per hour (0: no limit).
    #[arg(long, env = "RESPITE_LIMIT_BOOKINGS_PER_HOUR", default_value_t = 5)]
    limit_bookings_per_hour: u32,
    /// Cancellations and moves of bookings per source address per hour.
    #[arg(
        long,
        env = "RESPITE_LIMIT_BOOKING_CHANGES_PER_HOUR",
        default_value_t = 10
    )]
    limit_booking_changes_per_hour: u32,
    /// Webhook requests per source address per minute.
    #[arg(long, env = "RESPITE_LIMIT_WEBHOOKS_PER_MINUTE", default_value_t = 300)]
    limit_webhooks_per_minute: u32,
    /// Staff sign-in attempts per source address per minute, all accounts.
    #[arg(long, env = "RESPITE_LIMIT_SIGN_INS_PER_MINUTE", default_value_t = 20)]
    limit_sign_ins_per_minute: u32,
    /// Seconds a client has to send a request head, and a kept-alive
    /// connection may stay idle.
    #[arg(long, env = "RESPITE_HEADER_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    header_timeout_seconds: u64,
    /// Seconds a request (body and answer) may take before it is answered 408.
    #[arg(long, env = "RESPITE_REQUEST_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout_seconds: u64,
    /// Open connections at most; more are closed at once.
    #[arg(long, env = "RESPITE_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
}

impl SecurityArgs {
    fn apply(self, config: &mut respite_web::WebConfig) {
        config.trusted_proxies = self.trusted_proxy;
        config.rate_limits = respite_web::limits::RateLimits {
            inquiries_per_minute: self.limit_inquiries_per_minute,
            bookings_per_hour: self.limit_bookings_per_hour,
            booking_changes_per_hour: self.limit_booking_changes_per_hour,
            webhooks_per_minute: self.limit_webhooks_per_minute,
            sign_ins_per_minute: self.limit_sign_ins_per_minute,
        };
        config.connections = respite_web::connections::ConnectionLimits {
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout_seconds),
            request_timeout: std::time::Duration::from_secs(self.request_timeout_seconds),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            ..config.connections
        };
    }
}

fn parse_trusted_proxies(text: &str) -> Result<respite_web::client::TrustedProxies, String> {
    text.parse()
        .map_err(|err: respite_web::client::TrustedProxyError| err.to_string())
}

/// When the confirmations and reminders of a booked consultation go out.
#[derive(Args)]
struct ReminderArgs {
    /// Reminders before each consultation, e.g. 24h,1h (hours h or minutes
    /// m, from 5m to 336h), or none.
    #[arg(long, env = "RESPITE_REMINDERS", default_value = "24h,1h", value_parser = parse_reminders)]
    reminders: ReminderLeads,
    /// Hours of the person's own clock in which no text and no reminder is
    /// sent, HH:MM-HH:MM.
    #[arg(long, env = "RESPITE_QUIET_HOURS", default_value = "21:00-08:00", value_parser = respite_domain::booking::QuietHours::parse)]
    quiet_hours: respite_domain::booking::QuietHours,
    /// Unanswered calls (no answer, voicemail) before a callback closes the
    /// thread as "no answer": for a new inquiry, and again after a
    /// cancelled or missed consultation. A whole number from 1 to 10.
    #[arg(long, env = "RESPITE_CALLBACK_TRIES", default_value = "3", value_parser = respite_domain::callbacks::CallbackTries::parse)]
    callback_tries: respite_domain::callbacks::CallbackTries,
}

/// The reminder lead times, largest first (one flag value, not repeated).
#[derive(Clone)]
struct ReminderLeads(Vec<jiff::SignedDuration>);

fn parse_reminders(text: &str) -> Result<ReminderLeads, String> {
    respite_domain::booking::parse_reminder_leads(text).map(ReminderLeads)
}

/// E-mail: the clinic mailbox polled over IMAP, replies sent over SMTP.
/// Passwords are read from the environment only (`RESPITE_IMAP_PASSWORD`,
/// `RESPITE_SMTP_PASSWORD`).
#[derive(Args)]
struct MailArgs {
    /// IMAP server of the clinic mailbox; without it no mailbox is polled.
    #[arg(long, env = "RESPITE_IMAP_HOST")]
    imap_host: Option<String>,
    #[arg(long, env = "RESPITE_IMAP_PORT", default_value_t = 993)]
    imap_port: u16,
    #[arg(long, env = "RESPITE_IMAP_USER")]
    imap_user: Option<String>,
    /// tls, starttls, or plain-loopback-only (refused for other hosts).
    #[arg(long, env = "RESPITE_IMAP_TLS", default_value = "tls", value_parser = parse_tls)]
    imap_tls: respite_mail::TlsMode,
    /// PEM file of a certificate authority trusted for the IMAP server in
    /// addition to the public ones (a clinic's own CA).
    #[arg(long, env = "RESPITE_IMAP_CA_FILE")]
    imap_ca_file: Option<PathBuf>,
    #[arg(long, env = "RESPITE_IMAP_MAILBOX", default_value = "INBOX")]
    imap_mailbox: String,
    /// Seconds between polls of the mailbox.
    #[arg(long, env = "RESPITE_IMAP_POLL_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    imap_poll_seconds: u64,
    /// SMTP server staff replies are sent through; without it no e-mail is sent.
    #[arg(long, env = "RESPITE_SMTP_HOST")]
    smtp_host: Option<String>,
    #[arg(long, env = "RESPITE_SMTP_PORT", default_value_t = 465)]
    smtp_port: u16,
    #[arg(long, env = "RESPITE_SMTP_USER")]
    smtp_user: Option<String>,
    /// tls, starttls, or plain-loopback-only (refused for other hosts).
    #[arg(long, env = "RESPITE_SMTP_TLS", default_value = "tls", value_parser = parse_tls)]
    smtp_tls: respite_mail::TlsMode,
    /// PEM file of a certificate authority trusted for the SMTP server in
    /// addition to the public ones (a clinic's own CA).
    #[arg(long, env = "RESPITE_SMTP_CA_FILE")]
    smtp_ca_file: Option<PathBuf>,
    /// The clinic's address replies are sent from.
    #[arg(long, env = "RESPITE_SMTP_FROM", value_parser = parse_email)]
    smtp_from: Option<respite_domain::Email>,
}

/// The e-mail settings `serve` uses.
pub struct MailConfig {
    pub imap: Option<respite_mail::imap::ImapSettings>,
    pub smtp: Option<respite_mail::smtp::SmtpSettings>,
}

impl MailArgs {
    fn into_config(self, web: &respite_web::WebConfig) -> anyhow::Result<MailConfig> {
        // A named file is read even when its server is not configured, so
        // that a mistake shows now, not when the server is added.
        let imap_ca = ca_certificates(self.imap_ca_file.as_deref(), "RESPITE_IMAP_CA_FILE")?;
        let smtp_ca = ca_certificates(self.smtp_ca_file.as_deref(), "RESPITE_SMTP_CA_FILE")?;
        let imap = match (self.imap_host, self.imap_user) {
            (None, None) => None,
            (Some(_), None) => {
                anyhow::bail!("RESPITE_IMAP_USER: is required with RESPITE_IMAP_HOST")
            }
            (None, Some(_)) => {
                anyhow::bail!("RESPITE_IMAP_HOST: is required with RESPITE_IMAP_USER")
            }
            (Some(host), Some(user)) => {
                let password = secret_env("RESPITE_IMAP_PASSWORD")?.ok_or_else(|| {
                    anyhow::anyhow!("RESPITE_IMAP_PASSWORD: is required with RESPITE_IMAP_HOST")
                })?;
                let clinic_address = self
                    .smtp_from
                    .as_ref()
                    .map_or_else(|| user.clone(), |from| from.as_str().to_owned());
                Some(respite_mail::imap::ImapSettings {
                    host,
                    port: self.imap_port,
                    user,
                    password,
                    tls: self.imap_tls,
                    ca: imap_ca,
                    mailbox: self.imap_mailbox,
                    poll_interval: std::time::Duration::from_secs(self.imap_poll_seconds),
                    clinic_address,
                    clinic_region: web.clinic_region.clone(),
                    default_time_zone: web.clinic_time_zone.clone(),
                    clock: jiff::Timestamp::now,
                })
            }
        };
        let smtp = match (self.smtp_host, self.smtp_from) {
            (None, None) => None,
            (Some(_), None) => {
                anyhow::bail!("RESPITE_SMTP_FROM: is required with RESPITE_SMTP_HOST")
            }
            (None, Some(_)) => {
                anyhow::bail!("RESPITE_SMTP_HOST: is required with RESPITE_SMTP_FROM")
            }
            (Some(host), Some(from)) => Some(respite_mail::smtp::SmtpSettings {
                host,
                port: self.smtp_port,
                user: self.smtp_user,
                password: secret_env("RESPITE_SMTP_PASSWORD")?,
                tls: self.smtp_tls,
                ca: smtp_ca,
                from,
                from_name: web.clinic_name.clone(),
            }),
        };
        Ok(MailConfig { imap, smtp })
    }
}

fn ca_certificates(
    path: Option<&std::path::Path>,
    setting: &'static str,
) -> anyhow::Result<Option<respite_mail::CaCertificates>> {
    match path {
        None => Ok(None),
        Some(path) => Ok(Some(respite_mail::CaCertificates::from_pem_file(
            path, setting,
        )?)),
    }
}

/// A secret from the environment: absent or blank is `None`.
fn secret_env(name: &str) -> anyhow::Result<Option<String>> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("{name}: is not valid UTF-8"),
    }
}

fn parse_tls(text: &str) -> Result<respite_mail::TlsMode, String> {
    respite_mail::TlsMode::parse(text.trim()).map_err(|err| err.rule)
}

fn parse_email(text: &str) -> Result<respite_domain::Email, String> {
    respite_domain::Email::parse(text).map_err(|err| err.to_string())
}

fn parse_public_url(text: &str) -> Result<String, String> {
    let text = text.trim().trim_end_matches('/');
    if !(text.starts_with("https://") || text.starts_with("http://")) || text.len() < 10 {
        return Err("must be an http(s) URL such as https://clinic.example.org".into());
    }
    Ok(text.to_owned())
}

fn parse_e164(text: &str) -> Result<String, String> {
    respite_domain::PhoneNumber::parse(text, "US")
        .map(|phone| phone.as_e164().to_owned())
        .map_err(|err| err.to_string())
}

fn parse_db_url(text: &str) -> Result<DatabaseUrl, String> {
    text.parse::<DatabaseUrl>().map_err(|err| err.to_string())
}

impl DbArg {
    fn url(&self) -> DatabaseUrl {
        self.db
            .clone()
            .unwrap_or_else(|| DatabaseUrl::sqlite_file(&default_data_dir().join("respite.sqlite")))
    }
}

/// `$RESPITE_DATA_DIR`, else `$XDG_DATA_HOME/respite`, else
/// `~/.local/share/respite`, else `./respite-data`.
fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RESPITE_DATA_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("respite");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".local/share/respite");
    }
    PathBuf::from("respite-data")
}

/// Allocations of at least this size are mapped from the system and given
/// back when freed. glibc's default threshold grows up to 32 MiB after the
/// first large block is freed, after which every argon2 buffer (19 MiB) of
/// a sign-in came from, and stayed in, one of up to 8 × CPUs arenas: a burst
/// of 23 checks left 360 MiB resident. Fixed at 1 MiB, a burst's memory is
/// returned as each check ends (bench/security/sign_in_memory.py).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_system() {
    const MMAP_THRESHOLD_BYTES: libc::c_int = 1024 * 1024;
    // SAFETY: mallopt only changes the allocator's tuning; it is called
    // before any other thread exists.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_system() {}

fn main() -> ExitCode {
    return_large_blocks_to_the_system();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RESPITE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Pk {
            command: PkCommand::Simulate { plan },
        } => commands::pk_simulate(&plan),
        Command::Pk {
            command: PkCommand::Target { plan },
        } => commands::pk_target(&plan),
        Command::Pk {
            command: PkCommand::Models,
        } => {
            print!("{}", respite_pk::json::models_description());
            Ok(())
        }
        Command::Routes => {
            commands::routes();
            Ok(())
        }
        Command::Instruments { command: None } => instruments::list(),
        Command::Instruments {
            command: Some(InstrumentsCommand::Score { instrument }),
        } => commands::read_standard_input("answers")
            .and_then(|input| instruments::score(&instrument, &input)),
        command => run_async(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("respite: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_async(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match command {
            Command::Serve {
                db,
                bind,
                messaging,
                mail,
                reminders,
                security,
            } => {
                let mail = mail.into_config(&respite_web::WebConfig::default())?;
                let mut config = respite_web::WebConfig {
                    messaging: messaging.into_config()?,
                    smtp: mail.smtp,
                    reminders: respite_web::ReminderConfig {
                        before: reminders.reminders.0,
                        quiet_hours: reminders.quiet_hours,
                    },
                    unanswered_attempts_before_closing: reminders.callback_tries.get(),
                    ..respite_web::WebConfig::default()
                };
                // Served over HTTPS: Secure, __Host- cookies and HSTS.
                config.secure_cookies = config
                    .messaging
                    .public_url
                    .as_deref()
                    .is_some_and(|url| url.starts_with("https://"));
                security.apply(&mut config);
                commands::serve(db.url(), bind, mail.imap, config).await
            }
            Command::Demo {
                bind,
                public_url,
                mail,
            } => {
                let mail = mail.into_config(&respite_web::WebConfig::default())?;
                commands::demo(bind, public_url, mail).await
            }
            Command::Migrate { db } => commands::migrate(db.url()).await,
            Command::User {
                command:
                    UserCommand::Add {
                        email,
                        role,
                        name,
                        db,
                    },
            } => commands::user_add(db.url(), &email, &role, name.as_deref()).await,
            Command::Audit {
                command: AuditCommand::Verify { db },
            } => commands::audit_verify(db.url()).await,
            Command::Pk { .. } | Command::Instruments { .. } | Command::Routes => {
                unreachable!("handled synchronously")
            }
        }
    })
}
