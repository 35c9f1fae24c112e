//! Staff replies, sent over SMTP with lettre.
//!
//! Every reply carries our own Message-ID (returned, so that the thread
//! records it) and, when the person wrote to us by e-mail, `In-Reply-To` and
//! `References` naming their last message, so that their mail program files
//! the reply under their own message. This module only transports: the web
//! layer checks consent before it calls [`send`].

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use respite_domain::Email;

use crate::{resolve, CaCertificates, TlsMode};

/// Where replies are handed over, and who they are from.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// Credentials, when the server asks for them.
    pub user: Option<String>,
    pub password: Option<String>,
    pub tls: TlsMode,
    /// A CA trusted in addition to the public roots (the clinic's own).
    pub ca: Option<CaCertificates>,
    /// The clinic's address: `From` of every reply.
    pub from: Email,
    /// The name shown with it, e.g. the clinic's name.
    pub from_name: String,
}

impl std::fmt::Debug for SmtpSettings {
    // The password is a secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .field("ca", &self.ca)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// A reply to send.
#[derive(Clone, Debug)]
pub struct Reply {
    pub to: Email,
    pub subject: String,
    pub body: String,
    /// The person's last Message-ID (without angle brackets), if any.
    pub in_reply_to: Option<String>,
}

/// A file sent with a message, e.g. the `.ics` of a booked consultation.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub filename: String,
    /// The MIME type with its parameters, e.g.
    /// `text/calendar; charset=utf-8; method=PUBLISH`.
    pub content_type: String,
    pub body: Vec<u8>,
}

/// What the SMTP server accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentEmail {
    /// Our Message-ID, without angle brackets.
    pub message_id: String,
    pub from: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("the e-mail cannot be built: {0}")]
    Build(String),
    #[error("the SMTP server cannot be reached: {0}")]
    Unreachable(String),
    #[error("the SMTP server refused the e-mail: {0}")]
    Refused(String),
}

/// Sends `reply`; returns our Message-ID once the server accepted it.
pub async fn send(settings: &SmtpSettings, reply: &Reply) -> Result<SentEmail, SmtpError> {
    send_with_attachments(settings, reply, &[]).await
}

/// Sends `reply` with `attachments` (multipart/mixed: the text first, then
/// each file); without attachments, a plain text message like [`send`].
pub async fn send_with_attachments(
    settings: &SmtpSettings,
    reply: &Reply,
    attachments: &[Attachment],
) -> Result<SentEmail, SmtpError> {
    let message_id = new_message_id(&settings.from)?;
    let from = Mailbox::new(
        Some(settings.from_name.clone()),
        settings
            .from
            .as_str()
            .parse()
            .map_err(|_| SmtpError::Build("from: not a valid address".into()))?,
    );
    let to: Mailbox = reply
        .to
        .as_str()
        .parse()
        .map_err(|_| SmtpError::Build("to: not a valid address".into()))?;
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(reply.subject.clone())
        .message_id(Some(format!("<{message_id}>")));
    if let Some(parent) = &reply.in_reply_to {
        builder = builder
            .in_reply_to(format!("<{parent}>"))
            .references(format!("<{parent}>"));
    }
    let email = if attachments.is_empty() {
        builder
            .header(ContentType::TEXT_PLAIN)
            .body(reply.body.clone())
    } else {
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(reply.body.clone()));
        for file in attachments {
            let content_type = ContentType::parse(&file.content_type).map_err(|_| {
                SmtpError::Build(format!(
                    "attachment {}: `{}` is not a MIME type",
                    file.filename, file.content_type
                ))
            })?;
            parts = parts.singlepart(
                lettre::message::Attachment::new(file.filename.clone())
                    .body(file.body.clone(), content_type),
            );
        }
        builder.multipart(parts)
    }
    .map_err(|err| SmtpError::Build(err.to_string()))?;
    let transport = transport(settings).await?;
    transport.send(email).await.map_err(|err| {
        // An SMTP reply code is the server's refusal; anything else (no
        // connection, a certificate we do not trust) never reached it.
        if err.is_permanent() || err.is_transient() {
            SmtpError::Refused(err.to_string())
        } else {
            SmtpError::Unreachable(err.to_string())
        }
    })?;
    Ok(SentEmail {
        message_id,
        from: settings.from.as_str().to_owned(),
    })
}

async fn transport(
    settings: &SmtpSettings,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, SmtpError> {
    let unreachable = |err: lettre::transport::smtp::Error| SmtpError::Unreachable(err.to_string());
    let builder = match settings.tls {
        TlsMode::PlainLoopbackOnly => {
            resolve(&settings.host, settings.port, settings.tls)
                .await
                .map_err(|err| SmtpError::Unreachable(err.to_string()))?;
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
        }
        TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host)
            .map_err(unreachable)?
            .tls(Tls::Wrapper(tls_parameters(settings)?)),
        TlsMode::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
            .map_err(unreachable)?
            .tls(Tls::Required(tls_parameters(settings)?)),
    };
    let mut builder = builder
        .port(settings.port)
        .timeout(Some(Duration::from_secs(20)));
    if let (Some(user), Some(password)) = (&settings.user, &settings.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// Verifies the server's certificate for `settings.host` against lettre's
/// public roots (webpki-roots) and the clinic's CA, if configured.
fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters, SmtpError> {
    let tls_error = |err: lettre::transport::smtp::Error| SmtpError::Unreachable(err.to_string());
    let mut builder = TlsParameters::builder(settings.host.clone());
    for certificate in settings.ca.iter().flat_map(CaCertificates::certificates) {
        builder = builder
            .add_root_certificate(Certificate::from_der(certificate.to_vec()).map_err(tls_error)?);
    }
    builder.build_rustls().map_err(tls_error)
}

/// `<random>@<the clinic's domain>`: 128 random bits make it unique
/// (RFC 5322 §3.6.4 asks for a globally unique id).
fn new_message_id(from: &Email) -> Result<String, SmtpError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|err| SmtpError::Build(format!("no randomness for the Message-ID: {err}")))?;
    let domain = from
        .as_str()
        .rsplit_once('@')
        .map_or("respite.invalid", |(_, domain)| domain);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{hex}@{domain}"))
}
