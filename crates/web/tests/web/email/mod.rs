//! The e-mail channel against real servers: Dovecot (IMAP) and aiosmtpd
//! (SMTP), both started here with throw-away settings, in plain text on
//! loopback and over TLS with a certificate from a throw-away CA made by
//! Debian's `openssl`. scripts/test sets RESPITE_TEST_DOVECOT and
//! RESPITE_TEST_AIOSMTPD_PYTHON (and RESPITE_REQUIRE_MAIL=1, which turns a
//! missing server or `openssl` into a failure).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::TryStreamExt;
use respite_domain::messaging::MessageChannel;
use respite_domain::{Email, Role};
use respite_mail::imap::{self, ImapSettings, PollError, Processed};
use respite_mail::smtp::{self, Reply, SmtpError, SmtpSettings};
use respite_mail::{CaCertificates, TlsMode};
use respite_store::{ContactAddress, Engine};
use respite_web::WebConfig;

use crate::support::*;

const USER: &str = "clinic@clinic.test";
const PASSWORD: &str = "mailbox-secret";

pub(crate) fn tool(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(path) if !path.is_empty() => Some(path),
        _ if std::env::var("RESPITE_REQUIRE_MAIL").is_ok() => {
            panic!("RESPITE_REQUIRE_MAIL is set but {var} is not")
        }
        _ => {
            eprintln!("note: {var} not set: e-mail test skipped");
            None
        }
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no server came up on port {port}");
}

/// A throw-away certificate authority, and a certificate it signed for
/// `localhost` (DNS:localhost, IP:127.0.0.1), made with `openssl`.
pub(crate) struct Certificates {
    dir: TempDir,
}

impl Certificates {
    fn ca(&self) -> PathBuf {
        self.dir.0.join("ca.pem")
    }
    fn server_certificate(&self) -> PathBuf {
        self.dir.0.join("server.pem")
    }
    fn server_key(&self) -> PathBuf {
        self.dir.0.join("server.key")
    }
    /// The CA as a clinic configures it (RESPITE_*_CA_FILE).
    fn clinic_ca(&self) -> CaCertificates {
        CaCertificates::from_pem_file(&self.ca(), "ca").unwrap()
    }
}

fn certificates() -> Option<Certificates> {
    let found = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        if std::env::var("RESPITE_REQUIRE_MAIL").is_ok() {
            panic!("RESPITE_REQUIRE_MAIL is set but there is no openssl (Debian package openssl)");
        }
        eprintln!("note: no openssl: TLS e-mail test skipped");
        return None;
    }
    let dir = std::env::temp_dir().join(unique("respite_tls"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName = DNS:localhost, IP:127.0.0.1\n\
         basicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature\n\
         extendedKeyUsage = serverAuth\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let steps: [&[&str]; 3] = [
        &[
            &["req", "-x509"],
            &ec[..],
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
            &["-subj", "/CN=Respite test CA"],
            &["-addext", "basicConstraints=critical,CA:TRUE"],
            &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ]
        .concat(),
        &[
            &["req", "-new"],
            &ec[..],
            &["-keyout", "server.key", "-out", "server.csr"],
            &["-subj", "/CN=localhost"],
        ]
        .concat(),
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    ];
    for args in steps {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Some(Certificates { dir: TempDir(dir) })
}

/// A server process, killed on drop, with its folder.
pub(crate) struct Server {
    child: Child,
    /// Plain, or STARTTLS when the server has a certificate; for aiosmtpd
    /// with implicit TLS, TLS from the first byte.
    pub(crate) port: u16,
    /// Dovecot's IMAPS port (TLS from the first byte), when it has a
    /// certificate.
    imaps_port: Option<u16>,
    pub(crate) dir: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn id_of(args: &[&str]) -> String {
    let out = Command::new("id").args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Dovecot on 127.0.0.1, one passwd-file user, maildir in a temporary
/// folder. Without `certificates`, plaintext only; with them, `ssl =
/// required`, STARTTLS on `port` and IMAPS on `imaps_port`. (Dovecot counts
/// a connection from the server's own address as secure, so the helpers
/// below still deliver and search in plain text.) As root it runs its mail
/// processes as Debian's `dovecot` account; otherwise as the current user.
async fn dovecot(binary: &str, certificates: Option<&Certificates>) -> Server {
    let dir = std::env::temp_dir().join(unique("respite_dovecot"));
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let port = free_port();
    let (ssl, imaps_port) = match certificates {
        None => ("ssl = no\n".to_owned(), None),
        Some(certificates) => (
            format!(
                "ssl = required\nssl_cert = <{}\nssl_key = <{}\n",
                certificates.server_certificate().display(),
                certificates.server_key().display()
            ),
            Some(free_port()),
        ),
    };
    let root = id_of(&["-u"]) == "0";
    let (mail_user, own_users) = if root {
        ("dovecot".to_owned(), String::new())
    } else {
        let me = id_of(&["-un"]);
        (
            me.clone(),
            format!("default_internal_user = {me}\ndefault_login_user = {me}\n"),
        )
    };
    if root {
        let status = Command::new("chown")
            .args(["-R", "dovecot:dovecot"])
            .arg(dir.join("home"))
            .status()
            .unwrap();
        assert!(status.success());
        let status = Command::new("chmod")
            .args(["755"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let d = dir.display();
    std::fs::write(dir.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
    std::fs::write(
        dir.join("dovecot.conf"),
        format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\n{ssl}disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\nfirst_valid_uid = 1\n{own_users}\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={mail_user} gid={mail_user} home={d}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  \
             inet_listener imaps {{\n    address = 127.0.0.1\n    port = {}\n    ssl = yes\n  }}\n}}\n",
            imaps_port.unwrap_or(0)
        ),
    )
    .unwrap();
    let child = Command::new(binary)
        .arg("-F")
        .arg("-c")
        .arg(dir.join("dovecot.conf"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port).await;
    if let Some(imaps_port) = imaps_port {
        wait_for_port(imaps_port).await;
    }
    Server {
        child,
        port,
        imaps_port,
        dir: TempDir(dir),
    }
}

/// How aiosmtpd protects its port.
#[derive(Clone, Copy)]
pub(crate) enum SmtpServerTls<'a> {
    Plain,
    /// STARTTLS, required before MAIL FROM and AUTH.
    StartTlsRequired(&'a Certificates),
    /// TLS from the first byte (SMTPS).
    Implicit(&'a Certificates),
}

/// aiosmtpd on 127.0.0.1, saving each message as `N.eml` in its folder.
pub(crate) async fn aiosmtpd(python: &str, tls: SmtpServerTls<'_>) -> Server {
    let dir = std::env::temp_dir().join(unique("respite_smtp"));
    std::fs::create_dir_all(dir.join("mail")).unwrap();
    let port = free_port();
    let script = dir.join("sink.py");
    std::fs::write(
        &script,
        r#"import os, signal, ssl, sys
from aiosmtpd.controller import Controller
out, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Save:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Save.count += 1
        path = os.path.join(out, "%d.eml" % Save.count)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 OK"
tls = {}
if mode != "plain":
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(sys.argv[4], sys.argv[5])
    if mode == "starttls":
        tls = dict(tls_context=context, require_starttls=True, auth_require_tls=True)
    else:
        tls = dict(ssl_context=context)
Controller(Save(), hostname="127.0.0.1", port=port, **tls).start()
signal.pause()
"#,
    )
    .unwrap();
    let mut command = Command::new(python);
    command
        .arg(&script)
        .arg(dir.join("mail"))
        .arg(port.to_string());
    let certificates = match tls {
        SmtpServerTls::Plain => {
            command.arg("plain");
            None
        }
        SmtpServerTls::StartTlsRequired(certificates) => {
            command.arg("starttls");
            Some(certificates)
        }
        SmtpServerTls::Implicit(certificates) => {
            command.arg("tls");
            Some(certificates)
        }
    };
    if let Some(certificates) = certificates {
        command
            .arg(certificates.server_certificate())
            .arg(certificates.server_key());
    }
    // Its log (a refused handshake prints a traceback) stays in its folder.
    let log = std::fs::File::create(dir.join("aiosmtpd.log")).unwrap();
    let child = command.stderr(log).spawn().unwrap();
    wait_for_port(port).await;
    Server {
        child,
        port,
        imaps_port: None,
        dir: TempDir(dir),
    }
}

pub(crate) fn saved_mail(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
}

fn imap_settings(port: u16) -> ImapSettings {
    ImapSettings {
        host: "127.0.0.1".into(),
        port,
        user: USER.into(),
        password: PASSWORD.into(),
        tls: TlsMode::PlainLoopbackOnly,
        ca: None,
        mailbox: "INBOX".into(),
        poll_interval: Duration::from_secs(60),
        clinic_address: USER.into(),
        clinic_region: "US".into(),
        default_time_zone: "America/Los_Angeles".into(),
        clock: jiff::Timestamp::now,
    }
}

/// Over TLS to `localhost`, the name in the server's certificate.
fn tls_imap_settings(port: u16, tls: TlsMode, ca: Option<CaCertificates>) -> ImapSettings {
    ImapSettings {
        host: "localhost".into(),
        port,
        tls,
        ca,
        ..imap_settings(port)
    }
}

type ImapSession = async_imap::Session<tokio::net::TcpStream>;

async fn imap_session(port: u16) -> ImapSession {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap();
    let mut session = client.login(USER, PASSWORD).await.map_err(|e| e.0).unwrap();
    session.select("INBOX").await.unwrap();
    session
}

/// Delivers a message the way a mail server would: IMAP APPEND, unseen.
async fn deliver(port: u16, raw: &str) {
    let mut session = imap_session(port).await;
    session.append("INBOX", None, None, raw).await.unwrap();
    session.logout().await.unwrap();
}

async fn search(port: u16, query: &str) -> Vec<u32> {
    let mut session = imap_session(port).await;
    let mut uids: Vec<u32> = session
        .uid_search(query)
        .await
        .unwrap()
        .into_iter()
        .collect();
    uids.sort_unstable();
    session.logout().await.unwrap();
    uids
}

async fn inquiries_from(app: &TestApp, email: &str) -> i64 {
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM inquiries WHERE email = $1")
        .bind(email)
        .fetch_one(&mut app.raw().await)
        .await
        .unwrap();
    count
}

fn letter(from: &str, id: &str, text: &str) -> String {
    format!(
        "From: Pat Doe <{from}>\r\nTo: {USER}\r\nSubject: Ketamine for CRPS?\r\n\
         Message-ID: <{id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    )
}

both_engines!(a_mailbox_message_becomes_exactly_one_inquiry_even_when_the_poll_is_interrupted);
async fn a_mailbox_message_becomes_exactly_one_inquiry_even_when_the_poll_is_interrupted(
    engine: Engine,
) {
    let Some(binary) = tool("RESPITE_TEST_DOVECOT") else {
        return;
    };
    let server = dovecot(&binary, None).await;
    let app = spawn(engine).await;
    let settings = imap_settings(server.port);
    let sender = "pat@example.org";
    deliver(
        server.port,
        &letter(
            sender,
            "first@example.org",
            "Please call me on (415) 555-2671.",
        ),
    )
    .await;

    // An interrupted poll: the message is fetched and committed, then
    // the process dies before it marks the message \Seen.
    let mut session = imap_session(server.port).await;
    let fetched: Vec<_> = session
        .uid_fetch("1:*", "(UID BODY.PEEK[])")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let raw = fetched[0].body().unwrap().to_vec();
    session.logout().await.unwrap();
    let Processed::Stored(first) = imap::process_message(&app.store, &settings, &raw, "x")
        .await
        .unwrap()
    else {
        panic!("the message was refused")
    };
    assert!(first.new_inquiry, "{engine:?}");
    assert_eq!(search(server.port, "UNSEEN").await, vec![1], "{engine:?}");

    // The next poll finds it stored already, and now marks it.
    let report = imap::poll_once(&app.store, &settings).await.unwrap();
    assert_eq!((report.stored, report.already_stored), (0, 1), "{engine:?}");
    assert!(search(server.port, "UNSEEN").await.is_empty(), "{engine:?}");
    let again = imap::poll_once(&app.store, &settings).await.unwrap();
    assert_eq!((again.stored, again.already_stored), (0, 0), "{engine:?}");
    assert_eq!(inquiries_from(&app, sender).await, 1, "{engine:?}");
    let inquiry = app.store.inquiry(first.inquiry_id).await.unwrap().unwrap();
    assert_eq!(inquiry.phone_e164.as_deref(), Some("+14155552671"));
    let thread = app.store.thread_messages(first.inquiry_id).await.unwrap();
    assert_eq!(thread.len(), 1, "{engine:?}");
    assert_eq!(thread[0].external_id, "first@example.org");
    assert!(thread[0].body.starts_with("Subject: Ketamine for CRPS?"));

    // A second message from the same address joins the thread.
    deliver(
        server.port,
        &letter(sender, "second@example.org", "Evenings are best."),
    )
    .await;
    let report = imap::poll_once(&app.store, &settings).await.unwrap();
    assert_eq!(report.stored, 1, "{engine:?}");
    assert_eq!(inquiries_from(&app, sender).await, 1, "{engine:?}");
    let thread = app.store.thread_messages(first.inquiry_id).await.unwrap();
    assert_eq!(thread.len(), 2, "{engine:?}");
    let consent = app
        .store
        .consent(
            &ContactAddress::Email(Email::parse(sender).unwrap()),
            MessageChannel::Email,
        )
        .await
        .unwrap();
    assert!(consent.is_some_and(|c| c.granted), "{engine:?}");
    drop(server);
}

both_engines!(an_email_with_no_text_part_is_refused_flagged_and_stores_nothing);
async fn an_email_with_no_text_part_is_refused_flagged_and_stores_nothing(engine: Engine) {
    let Some(binary) = tool("RESPITE_TEST_DOVECOT") else {
        return;
    };
    let server = dovecot(&binary, None).await;
    let app = spawn(engine).await;
    let settings = imap_settings(server.port);
    let sender = "files@example.org";
    deliver(
        server.port,
        &format!(
            "From: {sender}\r\nSubject: my records\r\nMessage-ID: <files@example.org>\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
        ),
    )
    .await;
    let report = imap::poll_once(&app.store, &settings).await.unwrap();
    assert_eq!(report.stored, 0, "{engine:?}");
    assert_eq!(report.refused.len(), 1, "{engine:?}");
    assert_eq!(
        report.refused[0].1.to_string(),
        "body: the message has no text part (neither text/plain nor text/html); nothing was stored"
    );
    assert_eq!(inquiries_from(&app, sender).await, 0, "{engine:?}");
    assert!(!app
        .store
        .has_message(MessageChannel::Email, "files@example.org")
        .await
        .unwrap());
    assert_eq!(
        search(server.port, "FLAGGED SEEN").await,
        vec![1],
        "{engine:?}"
    );
    drop(server);
}

pub(crate) fn smtp_settings(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        user: None,
        password: None,
        tls: TlsMode::PlainLoopbackOnly,
        ca: None,
        from: Email::parse("hello@clinic.test").unwrap(),
        from_name: "Respite Pain Clinic".into(),
    }
}

/// Over TLS to `localhost`, the name in the server's certificate.
fn tls_smtp_settings(port: u16, tls: TlsMode, ca: Option<CaCertificates>) -> SmtpSettings {
    SmtpSettings {
        host: "localhost".into(),
        tls,
        ca,
        ..smtp_settings(port)
    }
}

async fn app_with_smtp(engine: Engine, smtp: SmtpSettings) -> TestApp {
    spawn_with(
        engine,
        WebConfig {
            smtp: Some(smtp),
            ..WebConfig::default()
        },
    )
    .await
}

/// The default settings, sending e-mail in plain to the SMTP server on
/// `port` on loopback.
fn smtp_config(port: u16) -> WebConfig {
    WebConfig {
        smtp: Some(smtp_settings(port)),
        ..WebConfig::default()
    }
}

async fn inbound(app: &TestApp, from: &str, id: &str) -> i64 {
    let raw = letter(from, id, "Can you help with my migraines?");
    let processed = imap::process_message(&app.store, &imap_settings(1), raw.as_bytes(), "x")
        .await
        .unwrap();
    let Processed::Stored(outcome) = processed else {
        panic!("refused")
    };
    outcome.inquiry_id
}

/// A front-desk user answers `sender`'s e-mail `message_id` from the
/// inquiry page; the reply reaches `smtp` and threads under that message.
async fn reply_reaches_the_server_and_threads(
    app: &TestApp,
    smtp: &Server,
    sender: &str,
    message_id: &str,
) {
    let inquiry = inbound(app, sender, message_id).await;
    let session = app.sign_in(Role::FrontDesk).await;
    let page = app
        .get(&format!("/staff/inquiries/{inquiry}"), Some(&session))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"email-reply\""));
    let response = app
        .post_form(
            &format!("/staff/inquiries/{inquiry}/email"),
            Some(&session),
            &[
                ("subject", "Re: Ketamine for CRPS?"),
                ("body", "We will call you tonight."),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let files = saved_mail(&smtp.dir.0);
    assert_eq!(files.len(), 1);
    let raw = std::fs::read(&files[0]).unwrap();
    let sent = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let from = sent.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("hello@clinic.test"));
    let to = sent.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some(sender));
    assert_eq!(sent.subject(), Some("Re: Ketamine for CRPS?"));
    assert_eq!(sent.in_reply_to().as_text(), Some(message_id));
    assert_eq!(sent.references().as_text(), Some(message_id));
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.contains(&format!("In-Reply-To: <{message_id}>")),
        "{text}"
    );
    let thread = app.store.thread_messages(inquiry).await.unwrap();
    let reply = thread.iter().find(|m| !m.inbound).unwrap();
    assert_eq!(Some(reply.external_id.as_str()), sent.message_id());
    assert_eq!(reply.in_reply_to.as_deref(), Some(message_id));
    assert_eq!(reply.channel, "email");
}

both_engines!(a_staff_reply_reaches_the_smtp_server_and_threads);
async fn a_staff_reply_reaches_the_smtp_server_and_threads(engine: Engine) {
    let Some(python) = tool("RESPITE_TEST_AIOSMTPD_PYTHON") else {
        return;
    };
    let smtp = aiosmtpd(&python, SmtpServerTls::Plain).await;
    let app = app_with_smtp(engine, smtp_settings(smtp.port)).await;
    reply_reaches_the_server_and_threads(&app, &smtp, "lee@example.org", "ask-1@example.org").await;
}

both_engines!(no_email_reply_is_sent_without_consent);
async fn no_email_reply_is_sent_without_consent(engine: Engine) {
    let Some(python) = tool("RESPITE_TEST_AIOSMTPD_PYTHON") else {
        return;
    };
    let smtp = aiosmtpd(&python, SmtpServerTls::Plain).await;
    let app = app_with_smtp(engine, smtp_settings(smtp.port)).await;
    let inquiry = inbound(&app, "quiet@example.org", "ask-2@example.org").await;
    app.store
        .record_consent(
            Some(inquiry),
            &ContactAddress::Email(Email::parse("quiet@example.org").unwrap()),
            MessageChannel::Email,
            false,
            jiff::Timestamp::now(),
            "asked by phone not to be e-mailed",
        )
        .await
        .unwrap();
    let session = app.sign_in(Role::FrontDesk).await;
    let response = app
        .post_form(
            &format!("/staff/inquiries/{inquiry}/email"),
            Some(&session),
            &[("subject", "Hello"), ("body", "Any news?")],
        )
        .await;
    assert_eq!(response.status(), 409, "{engine:?}");
    let body = response.text().await.unwrap();
    assert!(body.contains("no consent to e-mail"), "{body}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(saved_mail(&smtp.dir.0).is_empty(), "{engine:?}");
    let thread = app.store.thread_messages(inquiry).await.unwrap();
    assert!(thread.iter().all(|m| m.inbound), "{engine:?}");

    // A blank subject is refused naming the field.
    let response = app
        .post_form(
            &format!("/staff/inquiries/{inquiry}/email"),
            Some(&session),
            &[("subject", " "), ("body", "Any news?")],
        )
        .await;
    assert_eq!(response.status(), 422, "{engine:?}");
    assert!(response.text().await.unwrap().contains("subject"));
}

/// A server's state on the test app's database, at `config`'s clock: what
/// the job worker of any server sees.
async fn server_state(app: &TestApp, config: WebConfig) -> respite_web::AppState {
    let store = respite_store::Store::connect(&app.url, respite_store::PoolSettings::default())
        .await
        .unwrap();
    respite_web::AppState::new(store, std::sync::Arc::new(config))
}

both_engines!(a_booking_is_confirmed_reminded_and_cancelled_by_email_with_the_ics_attached);
/// Monday 23 November 2026, 08:00 PST at the clinic; the person books
/// 10:00 PST, which is 12:00 CST on their own clock (Chicago).
async fn a_booking_is_confirmed_reminded_and_cancelled_by_email_with_the_ics_attached(
    engine: Engine,
) {
    let Some(python) = tool("RESPITE_TEST_AIOSMTPD_PYTHON") else {
        return;
    };
    let Some(ical_python) = crate::booking::icalendar_python() else {
        return;
    };
    let smtp = aiosmtpd(&python, SmtpServerTls::Plain).await;
    let config = |now: &str| WebConfig {
        clock: respite_web::Clock::Fixed(now.parse().unwrap()),
        messaging: respite_web::MessagingConfig {
            public_url: Some("https://clinic.example.org".into()),
            ..respite_web::MessagingConfig::default()
        },
        ..smtp_config(smtp.port)
    };
    let app = spawn_with(engine, config("2026-11-23T16:00Z")).await;
    let staff = crate::booking::front_desk_takes_monday_mornings(&app).await;
    let starts: jiff::Timestamp = "2026-11-23T18:00Z".parse().unwrap();
    let slot = format!("{staff}@{}", starts.as_millisecond());
    let response = app
        .post_form(
            "/consultations",
            None,
            &[
                ("name", "Ana López"),
                // A phone consultation needs a number; its texts are not
                // this test's concern (no SMS provider: they never send).
                ("phone", "(503) 725-3000"),
                ("email", "ana@example.org"),
                ("time_zone", "America/Chicago"),
                ("slot", &slot),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    // Nothing is sent inside the request: the job queue sends it.
    assert!(saved_mail(&smtp.dir.0).is_empty());
    let kinds: Vec<String> = app
        .store
        .jobs()
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.kind)
        .filter(|kind| kind.ends_with("-email"))
        .collect();
    // The e-mails: the 24-hour reminder is already past.
    assert_eq!(
        kinds,
        ["confirmation-email", "reminder-email"],
        "{engine:?}"
    );

    let now = server_state(&app, config("2026-11-23T16:00Z")).await;
    assert_eq!(respite_web::jobs::run_due(&now).await.unwrap(), 1);
    // The 1-hour reminder, at 11:00 on the person's clock; once only,
    // whichever server runs it.
    let early = server_state(&app, config("2026-11-23T16:59Z")).await;
    assert_eq!(respite_web::jobs::run_due(&early).await.unwrap(), 0);
    let a = server_state(&app, config("2026-11-23T17:01Z")).await;
    let b = server_state(&app, config("2026-11-23T17:01Z")).await;
    let (sent_a, sent_b) = tokio::join!(
        respite_web::jobs::run_due(&a),
        respite_web::jobs::run_due(&b)
    );
    assert_eq!(sent_a.unwrap() + sent_b.unwrap(), 1, "{engine:?}");
    let files = saved_mail(&smtp.dir.0);
    assert_eq!(files.len(), 2, "{engine:?}");

    // Read by Python's email package and PyPI icalendar.
    let read = |files: &[PathBuf]| -> Vec<serde_json::Value> {
        let output = Command::new(&ical_python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/web/email/confirmation_check.py"
            ))
            .arg("America/Chicago")
            .args(files)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    };
    let mails = read(&files);
    assert_eq!(
        mails[0]["subject"],
        "Your free phone consultation: Monday 23 November, 12:00 PM CST"
    );
    assert_eq!(
        mails[1]["subject"],
        "Reminder: your free phone consultation on Monday 23 November, 12:00 PM CST"
    );
    for mail in &mails {
        assert_eq!(mail["to"], "ana@example.org");
        let events = mail["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{mail}");
        assert_eq!(events[0]["filename"], "consultation.ics");
        assert_eq!(events[0]["start"], "2026-11-23 12:00 CST");
        assert_eq!(events[0]["end"], "2026-11-23 12:15 CST");
        assert_eq!(events[0]["status"], "CONFIRMED");
        assert!(events[0]["uid"]
            .as_str()
            .unwrap()
            .starts_with("consultation-"));
    }
    // The link in the e-mail opens the booking, to move or cancel it.
    let text = mails[0]["text"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("https://clinic.example.org/consultations/booking?token="))
        .unwrap_or_else(|| panic!("no link in: {text}"));
    let path = link.trim_start_matches("https://clinic.example.org");
    let page = app.get(path, None).await;
    assert_eq!(page.status(), 200, "{engine:?}");
    assert!(page.text().await.unwrap().contains("12:00 PM"));
    // Both are in the person's thread, with what was attached.
    let inquiry = app
        .store
        .consultation(1)
        .await
        .unwrap()
        .unwrap()
        .inquiry_id
        .unwrap();
    let sent: Vec<_> = app
        .store
        .thread_messages(inquiry)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| !m.inbound)
        .collect();
    assert_eq!(sent.len(), 2);
    assert!(sent
        .iter()
        .all(|m| m.channel == "email" && m.body.ends_with("[attached: consultation.ics]")));

    // She cancels with that link: one more e-mail says so, and its .ics
    // cancels the same event in her calendar.
    let token = path.split("token=").nth(1).unwrap();
    let cancelled = app
        .post_form("/consultations/booking/cancel", None, &[("token", token)])
        .await;
    assert_eq!(cancelled.status(), 200, "{engine:?}");
    let later = server_state(&app, config("2026-11-23T17:05Z")).await;
    assert_eq!(respite_web::jobs::run_due(&later).await.unwrap(), 1);
    assert_eq!(respite_web::jobs::run_due(&later).await.unwrap(), 0);
    let files = saved_mail(&smtp.dir.0);
    assert_eq!(files.len(), 3, "{engine:?}");
    let cancellation = &read(&files[2..])[0];
    assert_eq!(
        cancellation["subject"],
        "Cancelled: your free phone consultation on Monday 23 November, 12:00 PM CST"
    );
    let events = cancellation["events"].as_array().unwrap();
    assert_eq!(events[0]["status"], "CANCELLED");
    assert_eq!(events[0]["uid"], mails[0]["events"][0]["uid"]);
    // An iTIP cancellation (RFC 5546 §3.2.5): METHOD:CANCEL, a higher
    // SEQUENCE than the event it cancels.
    assert_eq!(events[0]["method"], "CANCEL");
    assert_eq!(mails[0]["events"][0]["method"], "PUBLISH");
    assert!(events[0]["sequence"].as_i64() > mails[0]["events"][0]["sequence"].as_i64());
    assert!(cancellation["text"]
        .as_str()
        .unwrap()
        .contains("book a new time at https://clinic.example.org/consultations"));
}

both_engines!(the_mailbox_is_polled_over_tls_and_starttls_trusting_the_clinic_ca);
async fn the_mailbox_is_polled_over_tls_and_starttls_trusting_the_clinic_ca(engine: Engine) {
    let Some(binary) = tool("RESPITE_TEST_DOVECOT") else {
        return;
    };
    let Some(certificates) = certificates() else {
        return;
    };
    let server = dovecot(&binary, Some(&certificates)).await;
    let app = spawn(engine).await;
    let imaps_port = server.imaps_port.unwrap();
    for (tls, port, sender) in [
        (TlsMode::Tls, imaps_port, "imaps@example.org"),
        (TlsMode::StartTls, server.port, "starttls@example.org"),
    ] {
        let message_id = format!("hello-{sender}");
        deliver(
            server.port,
            &letter(sender, &message_id, "Please call me on (415) 555-2671."),
        )
        .await;
        let settings = tls_imap_settings(port, tls, Some(certificates.clinic_ca()));
        let report = imap::poll_once(&app.store, &settings).await.unwrap();
        assert_eq!(
            (report.stored, report.already_stored),
            (1, 0),
            "{engine:?} {tls:?}"
        );
        assert!(report.refused.is_empty(), "{engine:?} {tls:?}");
        assert!(
            search(server.port, "UNSEEN").await.is_empty(),
            "{engine:?} {tls:?}"
        );
        let again = imap::poll_once(&app.store, &settings).await.unwrap();
        assert_eq!(
            (again.stored, again.already_stored),
            (0, 0),
            "{engine:?} {tls:?}"
        );
        assert_eq!(inquiries_from(&app, sender).await, 1, "{engine:?} {tls:?}");
        assert!(app
            .store
            .has_message(MessageChannel::Email, &message_id)
            .await
            .unwrap());
    }
}

both_engines!(without_the_clinic_ca_the_mailbox_poll_fails_on_the_certificate_and_stores_nothing);
async fn without_the_clinic_ca_the_mailbox_poll_fails_on_the_certificate_and_stores_nothing(
    engine: Engine,
) {
    let Some(binary) = tool("RESPITE_TEST_DOVECOT") else {
        return;
    };
    let Some(certificates) = certificates() else {
        return;
    };
    let server = dovecot(&binary, Some(&certificates)).await;
    let app = spawn(engine).await;
    let sender = "untrusted@example.org";
    deliver(
        server.port,
        &letter(sender, "untrusted@example.org", "Is anyone there?"),
    )
    .await;
    let imaps_port = server.imaps_port.unwrap();
    for (tls, port) in [(TlsMode::Tls, imaps_port), (TlsMode::StartTls, server.port)] {
        // Only the public roots: the server's certificate is not trusted.
        let settings = tls_imap_settings(port, tls, None);
        let err = imap::poll_once(&app.store, &settings).await.unwrap_err();
        let PollError::Tls(reason) = &err else {
            panic!("{engine:?} {tls:?}: not a TLS error: {err}")
        };
        assert!(
            reason.contains("invalid peer certificate") && reason.contains("UnknownIssuer"),
            "{engine:?} {tls:?}: {reason}"
        );
        assert_eq!(inquiries_from(&app, sender).await, 0, "{engine:?} {tls:?}");
        assert_eq!(
            search(server.port, "UNSEEN").await,
            vec![1],
            "{engine:?} {tls:?}"
        );
    }
    // The same poll trusting the clinic's CA reads it: the certificate
    // was the only reason.
    let settings = tls_imap_settings(imaps_port, TlsMode::Tls, Some(certificates.clinic_ca()));
    let report = imap::poll_once(&app.store, &settings).await.unwrap();
    assert_eq!(report.stored, 1, "{engine:?}");
    assert_eq!(inquiries_from(&app, sender).await, 1, "{engine:?}");
}

both_engines!(a_staff_reply_is_sent_over_starttls_and_tls_trusting_the_clinic_ca);
async fn a_staff_reply_is_sent_over_starttls_and_tls_trusting_the_clinic_ca(engine: Engine) {
    let Some(python) = tool("RESPITE_TEST_AIOSMTPD_PYTHON") else {
        return;
    };
    let Some(certificates) = certificates() else {
        return;
    };
    for (server_tls, tls) in [
        (
            SmtpServerTls::StartTlsRequired(&certificates),
            TlsMode::StartTls,
        ),
        (SmtpServerTls::Implicit(&certificates), TlsMode::Tls),
    ] {
        let smtp = aiosmtpd(&python, server_tls).await;
        let settings = tls_smtp_settings(smtp.port, tls, Some(certificates.clinic_ca()));
        let app = app_with_smtp(engine, settings).await;
        let sender = format!("{}@example.org", tls.as_str());
        let message_id = format!("ask-{}@example.org", tls.as_str());
        reply_reaches_the_server_and_threads(&app, &smtp, &sender, &message_id).await;
    }
}

both_engines!(without_the_clinic_ca_no_reply_is_sent_over_starttls_or_tls);
async fn without_the_clinic_ca_no_reply_is_sent_over_starttls_or_tls(engine: Engine) {
    let Some(python) = tool("RESPITE_TEST_AIOSMTPD_PYTHON") else {
        return;
    };
    let Some(certificates) = certificates() else {
        return;
    };
    for (server_tls, tls) in [
        (
            SmtpServerTls::StartTlsRequired(&certificates),
            TlsMode::StartTls,
        ),
        (SmtpServerTls::Implicit(&certificates), TlsMode::Tls),
    ] {
        let smtp = aiosmtpd(&python, server_tls).await;
        // Only the public roots: the server's certificate is not trusted.
        let settings = tls_smtp_settings(smtp.port, tls, None);
        let err = smtp::send(
            &settings,
            &Reply {
                to: Email::parse("lee@example.org").unwrap(),
                subject: "Hello".into(),
                body: "Any news?".into(),
                in_reply_to: None,
            },
        )
        .await
        .unwrap_err();
        let SmtpError::Unreachable(reason) = &err else {
            panic!("{tls:?}: not an unreachable server: {err}")
        };
        assert!(
            reason.contains("invalid peer certificate") && reason.contains("UnknownIssuer"),
            "{tls:?}: {reason}"
        );

        // Through the staff application: refused, nothing recorded.
        let app = app_with_smtp(engine, settings).await;
        let inquiry = inbound(&app, "lee@example.org", "ask-3@example.org").await;
        let session = app.sign_in(Role::FrontDesk).await;
        let response = app
            .post_form(
                &format!("/staff/inquiries/{inquiry}/email"),
                Some(&session),
                &[("subject", "Hello"), ("body", "Any news?")],
            )
            .await;
        assert_eq!(response.status(), 502, "{engine:?} {tls:?}");
        let thread = app.store.thread_messages(inquiry).await.unwrap();
        assert!(thread.iter().all(|m| m.inbound), "{engine:?} {tls:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(saved_mail(&smtp.dir.0).is_empty(), "{engine:?} {tls:?}");
    }
}
