//! E-mail, one of the ways into the inquiry queue (SPEC §1 step 1: "by web
//! form, e-mail, phone call or text message").
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
use std::path::Path;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::RootCertStore;

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

/// Certificate authorities trusted in addition to the public roots
/// (webpki-roots), for a mail server whose certificate comes from the
/// clinic's own CA. Holds at least one certificate, each usable as a trust
/// anchor. It only adds trust: certificates are always verified, and the
/// server name must still match.
#[derive(Clone, PartialEq, Eq)]
pub struct CaCertificates {
    certificates: Vec<CertificateDer<'static>>,
}

impl CaCertificates {
    /// Reads one or more PEM certificates (`-----BEGIN CERTIFICATE-----`)
    /// from `path`; an error names `setting` (e.g. `RESPITE_IMAP_CA_FILE`).
    pub fn from_pem_file(
        path: &Path,
        setting: &'static str,
    ) -> Result<CaCertificates, SettingError> {
        let pem = std::fs::read(path).map_err(|err| {
            SettingError::new(setting, format!("cannot read {}: {err}", path.display()))
        })?;
        CaCertificates::from_pem(&pem, setting)
            .map_err(|err| SettingError::new(setting, format!("{}: {}", path.display(), err.rule)))
    }

    /// Reads one or more PEM certificates; an error names `setting`.
    pub fn from_pem(pem: &[u8], setting: &'static str) -> Result<CaCertificates, SettingError> {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| SettingError::new(setting, format!("not a PEM file: {err}")))?;
        if certificates.is_empty() {
            return Err(SettingError::new(
                setting,
                "holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            ));
        }
        // Refused now rather than at the first connection.
        let mut store = RootCertStore::empty();
        for certificate in &certificates {
            store.add(certificate.clone()).map_err(|err| {
                SettingError::new(
                    setting,
                    format!("a certificate cannot be a trust root: {err}"),
                )
            })?;
        }
        Ok(CaCertificates { certificates })
    }

    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }
}

impl std::fmt::Debug for CaCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CaCertificates({} certificates)",
            self.certificates.len()
        )
    }
}

/// The public roots, and `extra` when the clinic configured its own CA.
pub(crate) fn trust_roots(extra: Option<&CaCertificates>) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for certificate in extra.map_or(&[][..], CaCertificates::certificates) {
        // Each was accepted by `RootCertStore::add` when it was read.
        let _ = roots.add(certificate.clone());
    }
    roots
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

    #[test]
    fn a_ca_file_that_is_not_a_pem_certificate_is_refused_naming_the_setting() {
        let check = |pem: &str, expected: &str| {
            let err = CaCertificates::from_pem(pem.as_bytes(), "RESPITE_IMAP_CA_FILE").unwrap_err();
            assert_eq!(err.field, "RESPITE_IMAP_CA_FILE");
            assert!(err.rule.contains(expected), "{pem}: {}", err.rule);
        };
        check("", "holds no PEM certificate");
        check(
            "hello, I am not a certificate\n",
            "holds no PEM certificate",
        );
        // A key is PEM, but not a certificate.
        check(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "holds no PEM certificate",
        );
        check(
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            "not a PEM file",
        );
        // Valid base64 that is no X.509 certificate.
        check(
            "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n",
            "cannot be a trust root",
        );
        let err =
            CaCertificates::from_pem_file(Path::new("/no/such/ca.pem"), "RESPITE_SMTP_CA_FILE")
                .unwrap_err();
        assert_eq!(err.field, "RESPITE_SMTP_CA_FILE");
        assert!(
            err.rule.starts_with("cannot read /no/such/ca.pem"),
            "{}",
            err.rule
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
