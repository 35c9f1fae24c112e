//! E-mail, the fourth way into the inquiry queue (issue 5, item 1).
//!
//! - [`inbound`]: reads a raw RFC 5322 message into sender, subject, text,
//!   phone numbers and Message-ID (pure; no I/O).
//! - [`imap`]: polls the clinic mailbox and stores each new message through
//!   `Store::record_inbound_message`, marking it `\Seen` only after the
//!   store committed it.
//! - [`smtp`]: sends a staff reply that threads (In-Reply-To, References).
//!
//! This crate knows IMAP, SMTP and MIME; it does not know SQL (the store
//! does) nor HTTP (the web layer decides who may send and checks consent).

pub mod imap;
pub mod inbound;
pub mod smtp;

use std::net::SocketAddr;

/// How a connection to a mail server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain connection upgraded by STARTTLS before any credential is sent.
    StartTls,
    /// No encryption; refused unless the host resolves only to loopback
    /// addresses (a local test server or a relay on the same machine).
    PlainLoopbackOnly,
}

impl TlsMode {
    pub fn parse(text: &str) -> Result<TlsMode, SettingError> {
        match text {
            "tls" => Ok(TlsMode::Tls),
            "starttls" => Ok(TlsMode::StartTls),
            "plain-loopback-only" => Ok(TlsMode::PlainLoopbackOnly),
            _ => Err(SettingError::new(
                "tls",
                "must be one of tls, starttls, plain-loopback-only",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Tls => "tls",
            TlsMode::StartTls => "starttls",
            TlsMode::PlainLoopbackOnly => "plain-loopback-only",
        }
    }
}

/// A setting that cannot be used, naming it and the rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct SettingError {
    pub field: &'static str,
    pub rule: String,
}

impl SettingError {
    pub fn new(field: &'static str, rule: impl Into<String>) -> SettingError {
        SettingError {
            field,
            rule: rule.into(),
        }
    }
}

/// Resolves `host:port`; with [`TlsMode::PlainLoopbackOnly`] refuses a host
/// any of whose addresses is not loopback, before anything is sent.
pub(crate) async fn resolve(
    host: &str,
    port: u16,
    tls: TlsMode,
) -> Result<Vec<SocketAddr>, std::io::Error> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    if addresses.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("host {host} has no address"),
        ));
    }
    if tls == TlsMode::PlainLoopbackOnly && !addresses.iter().all(|a| a.ip().is_loopback()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("tls: plain-loopback-only refuses {host}, which is not a loopback address; use tls or starttls"),
        ));
    }
    Ok(addresses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_parse_and_name_the_field_when_wrong() {
        assert_eq!(TlsMode::parse("tls"), Ok(TlsMode::Tls));
        assert_eq!(TlsMode::parse("starttls"), Ok(TlsMode::StartTls));
        assert_eq!(
            TlsMode::parse("plain-loopback-only"),
            Ok(TlsMode::PlainLoopbackOnly)
        );
        let err = TlsMode::parse("plain").unwrap_err();
        assert_eq!(
            err.to_string(),
            "tls: must be one of tls, starttls, plain-loopback-only"
        );
    }

    #[tokio::test]
    async fn plain_connections_are_refused_to_hosts_that_are_not_loopback() {
        // 192.0.2.1 is TEST-NET-1 (RFC 5737): never reached, the refusal
        // comes before any connection.
        let err = resolve("192.0.2.1", 143, TlsMode::PlainLoopbackOnly)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(resolve("127.0.0.1", 143, TlsMode::PlainLoopbackOnly)
            .await
            .is_ok());
        assert!(resolve("192.0.2.1", 993, TlsMode::Tls).await.is_ok());
    }
}
