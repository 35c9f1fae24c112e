//! The subcommands' bodies.

use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use respite_domain::{Email, Role};
use respite_store::demo::DemoSize;
use respite_store::{
    audit_checkpoint_path, AuditCheckpointFile, AuditKeys, DatabaseUrl, MissingKeyFile,
    PoolSettings, Store, AUDIT_KEY_ENV,
};
use respite_web::{auth, AppState, WebConfig};
use tokio::net::TcpListener;

async fn open(url: &DatabaseUrl) -> anyhow::Result<Store> {
    let store = Store::connect(url, PoolSettings::default())
        .await
        .with_context(|| format!("database {}: cannot connect", url.redacted()))?;
    store
        .migrate(respite_web::Clock::System.now())
        .await
        .with_context(|| format!("database {}: cannot migrate", url.redacted()))?;
    Ok(store)
}

pub async fn migrate(url: DatabaseUrl) -> anyhow::Result<()> {
    open(&url).await?;
    println!("database {} is up to date", url.redacted());
    Ok(())
}

pub async fn serve(
    url: DatabaseUrl,
    bind: SocketAddr,
    imap: Option<respite_mail::imap::ImapSettings>,
    config: WebConfig,
) -> anyhow::Result<()> {
    let data_dir = crate::default_data_dir();
    let store = open(&url)
        .await?
        .with_audit_key(audit_keys(&data_dir, MissingKeyFile::Create)?)
        .with_audit_checkpoint(audit_checkpoint_path(&data_dir, &url));
    verify_audit_at_start(&store).await?;
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("--bind {bind}: cannot listen"))?;
    let address = listener.local_addr()?;
    println!(
        "Respite is serving http://{address}/ (database: {})",
        url.redacted()
    );
    if let Some(imap) = imap {
        spawn_mailbox_poller(&store, imap);
    }
    run_server(listener, store, config).await
}

/// Polls the clinic's mailbox into the inquiry queue, saying so at start.
fn spawn_mailbox_poller(store: &Store, imap: respite_mail::imap::ImapSettings) {
    println!(
        "Polling the mailbox {} on {}:{} every {} s",
        imap.mailbox,
        imap.host,
        imap.port,
        imap.poll_interval.as_secs()
    );
    tokio::spawn(respite_mail::imap::run(store.clone(), imap));
}

async fn run_server(listener: TcpListener, store: Store, config: WebConfig) -> anyhow::Result<()> {
    let config = Arc::new(config);
    spawn_session_sweeper(store.clone(), config.clone());
    let state = AppState::new(store.clone(), config);
    spawn_job_worker(state.clone());
    respite_web::serve(listener, state, shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

/// Runs due jobs (confirmation texts, reminders) every 30 seconds. Jobs
/// live in the database, so a restarted server picks up where it stopped
/// and several servers share the work.
fn spawn_job_worker(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            if let Err(err) = respite_web::jobs::run_due(&state).await {
                tracing::warn!(error = %err, "job worker: storage failed");
            }
        }
    });
}

/// Deletes expired sessions every few minutes (they are refused anyway; this
/// keeps the table small).
fn spawn_session_sweeper(store: Store, config: Arc<WebConfig>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            let now = config.clock.now();
            let idle = now - auth::signed(config.idle_timeout);
            let created = now - auth::signed(config.absolute_timeout);
            if let Err(err) = store.delete_expired_sessions(idle, created).await {
                tracing::warn!(error = %err, "session sweep failed");
            }
        }
    });
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// Demo logins, one per role. Printed at start; the demo database is
/// throw-away and lives in a temporary folder.
const DEMO_PASSWORD: &str = "respite-demo";
const DEMO_USERS: &[(&str, &str, Role)] = &[
    ("frontdesk@demo.respite.test", "Fran Desk", Role::FrontDesk),
    ("nurse@demo.respite.test", "Nadia Nurse (RN)", Role::Nurse),
    (
        "clinician@demo.respite.test",
        "Dr. Carl Clinician",
        Role::Clinician,
    ),
    ("admin@demo.respite.test", "Ada Admin", Role::Admin),
];

/// `respite demo`: a fresh synthetic clinic. With an SMTP server its
/// e-mails (portal sign-in links) go out through it, their links naming
/// `public_url` (default `http://` and the address it listens on); without
/// one they are written to the outbox folder it names at start.
pub async fn demo(
    bind: SocketAddr,
    public_url: Option<String>,
    mail: crate::MailConfig,
) -> anyhow::Result<()> {
    if mail.smtp.is_some() && public_url.is_none() && bind.ip().is_unspecified() {
        bail!(
            "RESPITE_PUBLIC_URL: is required with RESPITE_SMTP_HOST when the demo listens on \
             every address (--bind {bind}): its e-mails' links need the address patients reach"
        );
    }
    let dir = std::env::temp_dir().join(format!("respite-demo-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    let url = DatabaseUrl::sqlite_file(&dir.join("demo.sqlite"));
    // The throw-away clinic has its own audit key and checkpoint beside its
    // database, whatever RESPITE_AUDIT_KEY says.
    let store = open(&url)
        .await?
        .with_audit_key(AuditKeys::load_file(&dir, MissingKeyFile::Create)?)
        .with_audit_checkpoint(audit_checkpoint_path(&dir, &url));
    verify_audit_at_start(&store).await?;
    let now = respite_web::Clock::System.now();
    let hash = tokio::task::spawn_blocking(|| auth::hash_password(DEMO_PASSWORD)).await??;
    let mut consulting = Vec::new();
    for (email, name, role) in DEMO_USERS {
        let user = store
            .create_staff_user(email, name, *role, &hash, now)
            .await?;
        if role.takes_consultations() {
            consulting.push(user.id);
        }
    }
    let summary = respite_store::demo::seed(&store, now, DemoSize::default(), &consulting).await?;

    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("--bind {bind}: cannot listen"))?;
    let address = listener.local_addr()?;
    println!("Respite demo clinic: http://{address}/");
    println!(
        "  {} patients, {} conditions, {} observations, {} infusion sessions, {} inquiries, {} consultations",
        summary.patients,
        summary.conditions,
        summary.observations,
        summary.infusion_sessions,
        summary.inquiries,
        summary.consultations
    );
    println!(
        "  {} questionnaires answered in the portal over six months (a patient → Outcomes); {} PHQ-9 safety alert open (Safety alerts)",
        summary.questionnaires, summary.open_safety_alerts
    );
    if summary.documented_sessions > 0 {
        println!(
            "  all {} past infusion sessions documented from order to sign-off (a patient's chart → Infusion sessions); for example:",
            summary.documented_sessions
        );
        for example in &summary.example_sessions {
            println!(
                "    http://{address}/staff/sessions/{:<6} {}",
                example.id, example.demonstrates
            );
        }
    }
    if !summary.outcomes.is_empty() {
        println!("  outcomes (Patients → the name → Outcomes):");
        for patient in &summary.outcomes {
            println!(
                "    {} {:<18} {}",
                patient.mrn, patient.name, patient.demonstrates
            );
        }
    }
    if !summary.screening_spectrum.is_empty() {
        println!("  screening spectrum (Patients → the name → Screening):");
        for patient in &summary.screening_spectrum {
            println!(
                "    {} {:<18} {}",
                patient.mrn, patient.name, patient.demonstrates
            );
        }
    }
    if !summary.decisions.is_empty() {
        println!(
            "  decisions, records requests and plans (Work list, or the name → Decision / Plan):"
        );
        for patient in &summary.decisions {
            println!(
                "    {} {:<18} {}",
                patient.mrn, patient.name, patient.demonstrates
            );
        }
    }
    println!(
        "  database: {} (thrown away: restart for a fresh clinic)",
        dir.display()
    );
    println!("Staff sign-in at http://{address}/staff/login, password `{DEMO_PASSWORD}` for every demo login:");
    for (email, _, role) in DEMO_USERS {
        println!("  {:<11} {email}", role.as_str());
    }
    let public_url = match (public_url, &mail.smtp) {
        (Some(url), _) => Some(url),
        (None, Some(_)) => Some(format!("http://{address}")),
        (None, None) => None,
    };
    match &mail.smtp {
        Some(smtp) => println!(
            "  e-mail: through SMTP {}:{}, from {}; links to {}",
            smtp.host,
            smtp.port,
            smtp.from.as_str(),
            public_url.as_deref().unwrap_or_default()
        ),
        // No mail server given: portal sign-in e-mails are written to the
        // throw-away clinic's outbox folder instead.
        None => println!("  e-mail outbox: {}", dir.join("outbox").display()),
    }
    let outbox = mail.smtp.is_none().then(|| dir.join("outbox"));
    let config = WebConfig {
        mail_outbox: outbox,
        secure_cookies: public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://")),
        messaging: respite_web::MessagingConfig {
            public_url,
            ..respite_web::MessagingConfig::default()
        },
        smtp: mail.smtp,
        ..WebConfig::default()
    };
    if let Some(imap) = mail.imap {
        spawn_mailbox_poller(&store, imap);
    }
    let result = run_server(listener, store, config).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The audit keys: `RESPITE_AUDIT_KEY` when set, else the key file in the
/// data directory (created at first start when `missing` says so).
fn audit_keys(data_dir: &std::path::Path, missing: MissingKeyFile) -> anyhow::Result<AuditKeys> {
    match crate::secret_env(AUDIT_KEY_ENV)? {
        Some(value) => Ok(AuditKeys::parse(&value, AUDIT_KEY_ENV)?),
        None => Ok(AuditKeys::load_file(data_dir, missing)?),
    }
}

/// At start a server verifies the whole chain against its checkpoint and,
/// when it holds, writes a checkpoint of the head, so that it has one before
/// its first append. A broken chain is logged and shown on the audit page;
/// the server still serves (stopping would not repair the trail), and the
/// old checkpoint stays as evidence.
async fn verify_audit_at_start(store: &Store) -> anyhow::Result<()> {
    let status = store
        .verify_audit_chain()
        .await
        .context("audit trail: cannot verify at start")?;
    if !status.is_intact() {
        tracing::error!(status = %status, "audit trail does not verify; run `respite audit verify`");
        return Ok(());
    }
    store
        .write_audit_checkpoint()
        .await
        .context("audit trail: cannot write the checkpoint at start")?;
    Ok(())
}

/// `respite audit verify`: the whole chain and the checkpoint; an error
/// (exit status 1) names the first entry that fails.
pub async fn audit_verify(url: DatabaseUrl) -> anyhow::Result<()> {
    if let Some(path) = url.sqlite_path().filter(|path| !path.exists()) {
        // Connecting would create an empty file in its place.
        bail!("--db {}: no such database file", path.display());
    }
    let data_dir = crate::default_data_dir();
    let keys = audit_keys(&data_dir, MissingKeyFile::Refuse)?;
    let store = Store::connect(&url, PoolSettings::default())
        .await
        .with_context(|| format!("database {}: cannot connect", url.redacted()))?
        .with_audit_key(keys)
        .with_audit_checkpoint(audit_checkpoint_path(&data_dir, &url));
    let status = store.verify_audit_chain().await.with_context(|| {
        format!(
            "database {}: cannot read the audit trail (is it migrated? `respite migrate`)",
            url.redacted()
        )
    })?;
    if !status.is_intact() {
        bail!("audit trail: {status}");
    }
    match store.audit_checkpoint().await {
        AuditCheckpointFile::Present(checkpoint) => {
            println!(
                "audit trail: {status}; the signed checkpoint (entry {}, {} entries, key {}) verifies",
                checkpoint.seq, checkpoint.entries, checkpoint.key_id
            );
            Ok(())
        }
        AuditCheckpointFile::Missing { path } => bail!(
            "audit trail: {status}, but there is no checkpoint at {}: removal of the newest entries cannot be ruled out (a server writes one at start and after each entry)",
            path.display()
        ),
        AuditCheckpointFile::Unreadable { reason } => bail!("audit trail: checkpoint: {reason}"),
        AuditCheckpointFile::NotConfigured => bail!("audit trail: no data directory given"),
    }
}

pub async fn user_add(
    url: DatabaseUrl,
    email: &str,
    role: &str,
    name: Option<&str>,
) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|err| anyhow::anyhow!("--email: {err}"))?;
    let role: Role = role.parse().map_err(|err| anyhow::anyhow!("--{err}"))?;
    let password = read_password()?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await?
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    let store = open(&url).await?;
    let email_text = email.as_str().to_lowercase();
    let user = store
        .create_staff_user(
            &email_text,
            name.unwrap_or(&email_text),
            role,
            &hash,
            respite_web::Clock::System.now(),
        )
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    println!("created {} user {} (id {})", user.role, user.email, user.id);
    Ok(())
}

/// The password from standard input: asked twice without echo on a terminal,
/// else the first line.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Password again: ")?;
        if first != second {
            bail!("password: the two entries differ");
        }
        return Ok(first);
    }
    let mut input = String::new();
    std::io::stdin().take(4096).read_to_string(&mut input)?;
    let password = input.lines().next().unwrap_or("").to_owned();
    if password.is_empty() {
        bail!("password: none given on standard input");
    }
    Ok(password)
}

pub fn pk_simulate(plan: &str) -> anyhow::Result<()> {
    let text = read_plan(plan)?;
    let output = respite_pk::json::simulate_json(&text).map_err(|err| anyhow::anyhow!("{err}"))?;
    println!("{output}");
    Ok(())
}

pub fn pk_target(plan: &str) -> anyhow::Result<()> {
    let text = read_plan(plan)?;
    let output = respite_pk::json::target_json(&text).map_err(|err| anyhow::anyhow!("{err}"))?;
    println!("{output}");
    Ok(())
}

/// All of standard input (JSON for a command); `what` names it in the error.
pub fn read_standard_input(what: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .with_context(|| format!("{what}: cannot read standard input"))?;
    Ok(text)
}

/// The JSON of `--plan FILE`, or of standard input for `--plan -`.
fn read_plan(plan: &str) -> anyhow::Result<String> {
    let text = if plan == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("--plan -: cannot read standard input")?;
        text
    } else {
        std::fs::read_to_string(plan).with_context(|| format!("--plan {plan}: cannot read"))?
    };
    Ok(text)
}

/// `respite routes`: the route table, one JSON object a line, so that
/// tools and tests outside the Rust code (the browser suite) enumerate the
/// same routes the server serves.
pub fn routes() {
    use respite_web::access::Access;
    for spec in respite_web::routes::route_specs() {
        let (access, permission) = match spec.access {
            Access::Public => ("public", None),
            Access::SignedIn => ("signed-in", None),
            Access::Staff(permission) => ("staff", Some(format!("{permission:?}"))),
            Access::Patient => ("patient", None),
        };
        let audited = spec.audited.map(
            |audited| serde_json::json!({ "resource": audited.resource, "action": audited.action }),
        );
        println!(
            "{}",
            serde_json::json!({
                "method": spec.method,
                "path": spec.path,
                "access": access,
                "permission": permission,
                "audited": audited,
            })
        );
    }
}
