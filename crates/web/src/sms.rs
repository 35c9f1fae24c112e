//! Outbound text messages: the [`SmsSender`] trait, its Twilio REST adapter,
//! and [`send_text`], the one way a text leaves the clinic, which checks
//! opt-out and consent first and records what was sent in the thread.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use respite_domain::messaging::MessageChannel;
use respite_domain::PhoneNumber;
use respite_store::{OutboundMessage, SmsPermission, StoreError};

use crate::{AppState, MessagingConfig};

/// What the provider answered for an accepted text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentSms {
    /// The provider's id of the message (Twilio's MessageSid).
    pub provider_id: String,
    /// The number it was sent from.
    pub from: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("texts are not configured on this server (account SID, auth token, sending number)")]
    NotConfigured,
    #[error("the SMS provider cannot be reached: {0}")]
    Unreachable(String),
    #[error("the SMS provider refused the text: HTTP {status}, error code {code}")]
    Refused { status: u16, code: String },
    #[error("the SMS provider's answer is not understood: {0}")]
    BadAnswer(String),
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<SentSms, SmsError>> + Send + 'a>>;

/// Something that hands a text to a provider. Callers use [`send_text`],
/// which checks consent first; this trait only transports.
pub trait SmsSender: Send + Sync {
    fn send<'a>(&'a self, to: &'a PhoneNumber, body: &'a str) -> SendFuture<'a>;
}

/// Twilio's Programmable Messaging REST API: `POST
/// {api}/2010-04-01/Accounts/{AccountSid}/Messages.json` with form fields
/// `To`, `From`, `Body`, HTTP basic auth `AccountSid:AuthToken`; a created
/// message answers 201 with JSON holding its `sid`.
pub struct TwilioSms {
    client: reqwest::Client,
    api_url: String,
    account_sid: String,
    auth_token: String,
    from: String,
}

impl TwilioSms {
    pub fn new(api_url: &str, account_sid: &str, auth_token: &str, from: &str) -> TwilioSms {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap_or_default();
        TwilioSms {
            client,
            api_url: api_url.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            from: from.to_owned(),
        }
    }

    async fn post(&self, to: &PhoneNumber, body: &str) -> Result<SentSms, SmsError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.api_url, self.account_sid
        );
        let response = self
            .client
            .post(url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&[("To", to.as_e164()), ("From", &self.from), ("Body", body)])
            .send()
            .await
            .map_err(|err| SmsError::Unreachable(err.without_url().to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| SmsError::Unreachable(err.without_url().to_string()))?;
        let json: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|_| SmsError::BadAnswer(format!("HTTP {status}, not JSON")))?;
        if !status.is_success() {
            // Twilio's error JSON has a numeric `code`; its `message` can
            // quote the number, so it is not kept.
            let code = json
                .get("code")
                .map_or_else(|| "none".to_owned(), ToString::to_string);
            return Err(SmsError::Refused {
                status: status.as_u16(),
                code,
            });
        }
        let sid = json
            .get("sid")
            .and_then(serde_json::Value::as_str)
            .filter(|sid| !sid.is_empty())
            .ok_or_else(|| SmsError::BadAnswer("no `sid` in the answer".into()))?;
        Ok(SentSms {
            provider_id: sid.to_owned(),
            from: self.from.clone(),
        })
    }
}

impl SmsSender for TwilioSms {
    fn send<'a>(&'a self, to: &'a PhoneNumber, body: &'a str) -> SendFuture<'a> {
        Box::pin(self.post(to, body))
    }
}

/// The sender of a server whose configuration lacks the Twilio account:
/// every send fails with [`SmsError::NotConfigured`].
pub struct NotConfigured;

impl SmsSender for NotConfigured {
    fn send<'a>(&'a self, _to: &'a PhoneNumber, _body: &'a str) -> SendFuture<'a> {
        Box::pin(async { Err(SmsError::NotConfigured) })
    }
}

/// The sender the configuration names.
pub fn sender_from_config(config: &MessagingConfig) -> std::sync::Arc<dyn SmsSender> {
    match (
        &config.twilio_account_sid,
        &config.twilio_auth_token,
        &config.twilio_from,
    ) {
        (Some(sid), Some(token), Some(from)) => {
            std::sync::Arc::new(TwilioSms::new(&config.twilio_api_url, sid, token, from))
        }
        _ => std::sync::Arc::new(NotConfigured),
    }
}

/// Why a text was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("phone: this number texted STOP; nothing is sent to it until it texts START")]
    OptedOut,
    #[error("phone: no consent to texts is recorded for this number")]
    NoConsent,
    #[error("{0}")]
    Provider(#[from] SmsError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// Sends a text to `to` in inquiry `inquiry_id`'s thread, if the number has
/// not opted out and consent to texts is recorded; records it in the thread
/// once the provider accepted it. Returns the stored message's id.
pub async fn send_text(
    state: &AppState,
    inquiry_id: i64,
    to: &PhoneNumber,
    body: &str,
) -> Result<i64, SendError> {
    match state.store.sms_permission(to).await? {
        SmsPermission::Allowed => {}
        SmsPermission::OptedOut => return Err(SendError::OptedOut),
        SmsPermission::NoConsent => return Err(SendError::NoConsent),
    }
    let sent = state.sms.send(to, body).await?;
    let stored = state
        .store
        .record_outbound_message(&OutboundMessage {
            inquiry_id,
            channel: MessageChannel::Sms,
            from: sent.from,
            to: to.as_e164().to_owned(),
            body: body.to_owned(),
            external_id: sent.provider_id,
            in_reply_to: None,
            at: state.config.clock.now(),
        })
        .await?;
    Ok(stored)
}
