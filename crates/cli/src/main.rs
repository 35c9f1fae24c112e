//! `respite`: the one binary. Each subcommand parses its flags, opens what it
//! needs, and calls the library crates; no logic of its own lives here.

mod commands;

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
    },
    /// Serve a fresh database filled with a synthetic demo clinic, and print
    /// the URL and the demo logins.
    Demo {
        /// Address to listen on.
        #[arg(long, env = "RESPITE_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
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

fn main() -> ExitCode {
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
            command: PkCommand::Models,
        } => {
            print!("{}", respite_pk::json::models_description());
            Ok(())
        }
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
            } => commands::serve(db.url(), bind, messaging.into_config()?).await,
            Command::Demo { bind } => commands::demo(bind).await,
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
            Command::Pk { .. } => unreachable!("handled synchronously"),
        }
    })
}
