//! The clinic mailbox, polled over IMAP.
//!
//! Each poll selects the mailbox, asks for `UID SEARCH UNSEEN`, fetches each
//! message with `BODY.PEEK[]` (which does not set `\Seen`), stores it through
//! `Store::record_inbound_message`, and only after that commit sets `\Seen`.
//! A poll interrupted between the commit and the flag fetches the message
//! again next time; the store is idempotent on (channel, Message-ID), so the
//! repeat changes nothing and the message is then marked. A message without
//! a Message-ID gets `imap:{mailbox}:{UIDVALIDITY}:{UID}`, stable while the
//! mailbox keeps its UIDVALIDITY.
//!
//! A message that cannot become an inquiry (no sender, no text part) is
//! stored nowhere, and marked `\Seen \Flagged` so that it is not read again
//! and a person looking at the mailbox finds it; the poll reports it and the
//! log names its UID and the reason (never its content).

use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use futures::TryStreamExt;
use jiff::Timestamp;
use respite_domain::messaging::MessageChannel;
use respite_store::{ContactAddress, InboundMessage, InboundOutcome, Store, StoreError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::inbound::{self, InboundError};
use crate::{resolve, trust_roots, CaCertificates, TlsMode};

/// Where the clinic mailbox is and how inquiries from it are read.
#[derive(Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub tls: TlsMode,
    /// A CA trusted in addition to the public roots (the clinic's own).
    pub ca: Option<CaCertificates>,
    /// The mailbox polled; `INBOX` by default.
    pub mailbox: String,
    pub poll_interval: Duration,
    /// The address recorded as the recipient of inbound e-mail.
    pub clinic_address: String,
    /// Region in which phone numbers without a country code are read.
    pub clinic_region: String,
    /// The time zone a new inquiry gets until the person tells theirs.
    pub default_time_zone: String,
    /// Where a stored message's time is read: `jiff::Timestamp::now` in
    /// service; tests fix it.
    pub clock: fn() -> Timestamp,
}

impl std::fmt::Debug for ImapSettings {
    // The password is a secret: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &"***")
            .field("tls", &self.tls)
            .field("ca", &self.ca)
            .field("mailbox", &self.mailbox)
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

/// What one poll did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Messages stored now.
    pub stored: usize,
    /// Messages found stored already (an earlier poll was interrupted).
    pub already_stored: usize,
    /// Messages refused, by UID, with the reason; marked `\Seen \Flagged`.
    pub refused: Vec<(u32, InboundError)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("imap: cannot connect: {0}")]
    Connect(#[from] std::io::Error),
    #[error("imap: TLS: {0}")]
    Tls(String),
    #[error("imap: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("imap: the server gave no UIDVALIDITY for the mailbox")]
    NoUidValidity,
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// What became of one fetched message.
#[derive(Debug)]
pub enum Processed {
    Stored(InboundOutcome),
    Refused(InboundError),
}

/// Reads one raw message and stores it in its person's thread. Does not
/// touch the mailbox: [`poll_once`] marks the message afterwards.
pub async fn process_message(
    store: &Store,
    settings: &ImapSettings,
    raw: &[u8],
    fallback_id: &str,
) -> Result<Processed, StoreError> {
    let email = match inbound::parse(raw, &settings.clinic_region) {
        Ok(email) => email,
        Err(err) => return Ok(Processed::Refused(err)),
    };
    let outcome = store
        .record_inbound_message(&InboundMessage {
            channel: MessageChannel::Email,
            from: ContactAddress::Email(email.from.clone()),
            to: settings.clinic_address.clone(),
            body: email.thread_body(),
            external_id: email
                .message_id
                .clone()
                .unwrap_or_else(|| fallback_id.to_owned()),
            recording_url: None,
            in_reply_to: email.in_reply_to.clone(),
            at: (settings.clock)(),
            callback: None,
            default_time_zone: settings.default_time_zone.clone(),
            phone_in_text: email.phones.first().cloned(),
        })
        .await?;
    Ok(Processed::Stored(outcome))
}

/// Connects, stores every unseen message, marks each after its commit.
pub async fn poll_once(store: &Store, settings: &ImapSettings) -> Result<PollReport, PollError> {
    let addresses = resolve(&settings.host, settings.port, settings.tls).await?;
    let tcp = TcpStream::connect(&addresses[..]).await?;
    match settings.tls {
        TlsMode::PlainLoopbackOnly => {
            let mut client = Client::new(tcp);
            read_greeting(&mut client).await?;
            poll_with(client, store, settings).await
        }
        TlsMode::Tls => {
            let stream = tls_connect(settings, tcp).await?;
            let mut client = Client::new(stream);
            read_greeting(&mut client).await?;
            poll_with(client, store, settings).await
        }
        TlsMode::StartTls => {
            let mut client = Client::new(tcp);
            read_greeting(&mut client).await?;
            client.run_command_and_check_ok("STARTTLS", None).await?;
            let stream = tls_connect(settings, client.into_inner()).await?;
            poll_with(Client::new(stream), store, settings).await
        }
    }
}

/// Polls every `poll_interval` until the task is dropped. Errors are
/// logged (without message content) and the next poll tries again.
pub async fn run(store: Store, settings: ImapSettings) {
    loop {
        match poll_once(&store, &settings).await {
            Ok(report) => {
                if report.stored > 0 || report.already_stored > 0 || !report.refused.is_empty() {
                    tracing::info!(
                        stored = report.stored,
                        already_stored = report.already_stored,
                        refused = report.refused.len(),
                        "mailbox polled"
                    );
                }
            }
            Err(err) => tracing::warn!(error = %err, "mailbox poll failed"),
        }
        tokio::time::sleep(settings.poll_interval).await;
    }
}

async fn read_greeting<T>(client: &mut Client<T>) -> Result<(), PollError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match client.read_response().await? {
        Some(_) => Ok(()),
        None => Err(PollError::Connect(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the server closed the connection before its greeting",
        ))),
    }
}

/// TLS over `tcp`, verifying the server's certificate for `settings.host`
/// against the public roots and the clinic's CA, if configured.
async fn tls_connect(
    settings: &ImapSettings,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, PollError> {
    use tokio_rustls::rustls::{self, pki_types::ServerName, ClientConfig};
    let host = &settings.host;
    let roots = trust_roots(settings.ca.as_ref());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| PollError::Tls(err.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| PollError::Tls(format!("host {host} is not a valid TLS server name")))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|err| PollError::Tls(err.to_string()))
}

async fn poll_with<T>(
    client: Client<T>,
    store: &Store,
    settings: &ImapSettings,
) -> Result<PollReport, PollError>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut session = client
        .login(&settings.user, &settings.password)
        .await
        .map_err(|(err, _)| err)?;
    let mailbox = session.select(&settings.mailbox).await?;
    let uid_validity = mailbox.uid_validity.ok_or(PollError::NoUidValidity)?;
    let mut uids: Vec<u32> = session.uid_search("UNSEEN").await?.into_iter().collect();
    uids.sort_unstable();
    let mut report = PollReport::default();
    for uid in uids {
        let fetches: Vec<_> = session
            .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
            .await?
            .try_collect()
            .await?;
        let Some(raw) = fetches.iter().find_map(|fetch| fetch.body()) else {
            // Expunged by someone else since the search.
            continue;
        };
        let fallback_id = format!("imap:{}:{uid_validity}:{uid}", settings.mailbox);
        let flags = match process_message(store, settings, raw, &fallback_id).await? {
            Processed::Stored(outcome) => {
                if outcome.duplicate {
                    report.already_stored += 1;
                } else {
                    report.stored += 1;
                }
                "+FLAGS.SILENT (\\Seen)"
            }
            Processed::Refused(reason) => {
                tracing::warn!(uid, reason = %reason, "e-mail refused; flagged in the mailbox");
                report.refused.push((uid, reason));
                "+FLAGS.SILENT (\\Seen \\Flagged)"
            }
        };
        // Only now, after the commit, is the message marked.
        let _: Vec<_> = session
            .uid_store(uid.to_string(), flags)
            .await?
            .try_collect()
            .await?;
    }
    session.logout().await?;
    Ok(report)
}
