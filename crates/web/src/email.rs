//! Outbound e-mail: [`send_email`] is the one way an e-mail leaves the
//! clinic. It checks the person's consent to e-mail, threads the reply under
//! their last inbound e-mail, sends it over SMTP (`respite-mail`) and records
//! it in the thread with our Message-ID.

use respite_domain::messaging::MessageChannel;
use respite_domain::Email;
use respite_mail::smtp::{self, Attachment, Reply, SmtpError};
use respite_store::{ContactAddress, OutboundMessage, StoreError};

use crate::AppState;

/// Why an e-mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendEmailError {
    #[error("email: no consent to e-mail is recorded for this address, or it was withdrawn")]
    NoConsent,
    #[error(
        "email: e-mail is not configured on this server (RESPITE_SMTP_HOST, RESPITE_SMTP_FROM)"
    )]
    NotConfigured,
    #[error("email: {0}")]
    Smtp(#[from] SmtpError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// Sends `body` to `to` in inquiry `inquiry_id`'s thread if consent to
/// e-mail is recorded; returns the stored message's id.
pub async fn send_email(
    state: &AppState,
    inquiry_id: i64,
    to: &Email,
    subject: &str,
    body: &str,
) -> Result<i64, SendEmailError> {
    send_email_with(state, inquiry_id, to, subject, body, &[]).await
}

/// [`send_email`] with files attached; the thread records their names.
pub async fn send_email_with(
    state: &AppState,
    inquiry_id: i64,
    to: &Email,
    subject: &str,
    body: &str,
    attachments: &[Attachment],
) -> Result<i64, SendEmailError> {
    let consent = state
        .store
        .consent(&ContactAddress::Email(to.clone()), MessageChannel::Email)
        .await?;
    if !consent.is_some_and(|record| record.granted) {
        return Err(SendEmailError::NoConsent);
    }
    let settings = state
        .config
        .smtp
        .as_ref()
        .ok_or(SendEmailError::NotConfigured)?;
    // The reply threads under the person's last e-mail to us.
    let in_reply_to = state
        .store
        .thread_messages(inquiry_id)
        .await?
        .into_iter()
        .rev()
        .find(|m| m.inbound && m.channel == MessageChannel::Email.as_str() && m.from == to.as_str())
        .map(|m| m.external_id)
        .filter(|id| !id.starts_with("imap:"));
    let sent = smtp::send_with_attachments(
        settings,
        &Reply {
            to: to.clone(),
            subject: subject.to_owned(),
            body: body.to_owned(),
            in_reply_to: in_reply_to.clone(),
        },
        attachments,
    )
    .await?;
    let mut recorded = format!("Subject: {subject}\n\n{body}");
    for file in attachments {
        recorded.push_str(&format!("\n[attached: {}]", file.filename));
    }
    let stored = state
        .store
        .record_outbound_message(&OutboundMessage {
            inquiry_id,
            channel: MessageChannel::Email,
            from: sent.from,
            to: to.as_str().to_owned(),
            body: recorded,
            external_id: sent.message_id,
            in_reply_to,
            at: state.config.clock.now(),
        })
        .await?;
    Ok(stored)
}
