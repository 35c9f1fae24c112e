//! `/webhooks/sms` and `/webhooks/voice`: texts and calls from the provider
//! (Twilio's form-encoded shape), signature-checked before anything is read
//! or stored. Both are outside the CSRF layer: the signature replaces it.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use respite_domain::inquiry::MESSAGE_MAX_CHARS;
use respite_domain::messaging::{MessageChannel, SmsKeyword};
use respite_domain::PhoneNumber;
use respite_store::{AuditStamp, CallbackReason, ContactAddress, InboundMessage, SmsPermission};

use crate::access::AuditedRecord;
use crate::twilio;
use crate::{AppError, AppState};

/// A webhook request's parameters, once its signature is verified.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<&str, AppError> {
        self.get(name).ok_or_else(|| refuse(name, "is required"))
    }

    fn phone(&self, name: &'static str, region: &str) -> Result<PhoneNumber, AppError> {
        PhoneNumber::parse(self.required(name)?, region)
            .map_err(|err| refuse(name, &err.to_string()))
    }
}

/// A signed request whose parameter `field` breaks `rule` (400).
fn refuse(field: &'static str, rule: &str) -> AppError {
    AppError::BadWebhook {
        field,
        rule: rule.to_owned(),
    }
}

fn twiml(document: String, record: Option<i64>) -> Response {
    let mut response = (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        document,
    )
        .into_response();
    if let Some(id) = record {
        response
            .extensions_mut()
            .insert(AuditedRecord(id.to_string()));
    }
    response
}

/// Parses the form body and checks `X-Twilio-Signature` against the URL the
/// provider was given (the configured public URL plus the request's path and
/// query). Missing configuration, a missing or wrong signature: 403.
fn verified(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Params, AppError> {
    let messaging = &state.config.messaging;
    let (Some(token), Some(public_url)) = (&messaging.twilio_auth_token, &messaging.public_url)
    else {
        return Err(AppError::SignatureRefused(
            "cannot be verified: webhooks are not configured on this server",
        ));
    };
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
        refuse(
            "body",
            "must be form-encoded (application/x-www-form-urlencoded)",
        )
    })?;
    let Some(given) = headers
        .get(twilio::SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
    else {
        return Err(AppError::SignatureRefused("is missing"));
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path}", public_url.trim_end_matches('/'));
    if !twilio::verify(token, &url, &params, given) {
        return Err(AppError::SignatureRefused("does not match this request"));
    }
    Ok(Params(params))
}

/// An inbound text: joins or opens the person's thread; STOP, START and HELP
/// are answered and honoured. Replies in TwiML.
pub async fn sms(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let params = verified(&state, &uri, &headers, &body)?;
    let config = &state.config;
    let from = params.phone("From", &config.clinic_region)?;
    let sid = match params.get("MessageSid").or_else(|| params.get("SmsSid")) {
        Some(sid) => sid.to_owned(),
        None => return Err(refuse("MessageSid", "is required")),
    };
    let text = params.get("Body").unwrap_or_default().to_owned();
    if text.chars().count() > MESSAGE_MAX_CHARS {
        return Err(refuse(
            "Body",
            &format!("must be at most {MESSAGE_MAX_CHARS} characters"),
        ));
    }
    // What the text does to consent is the domain's policy, applied by the
    // store; the keyword here only chooses the answer.
    let keyword = SmsKeyword::parse(&text);
    let outcome = state
        .store
        .stamped(&audit)
        .record_inbound_message(&InboundMessage {
            channel: MessageChannel::Sms,
            from: ContactAddress::Phone(from.clone()),
            to: params.get("To").unwrap_or_default().to_owned(),
            body: text,
            external_id: sid,
            recording_url: None,
            in_reply_to: None,
            at: config.clock.now(),
            callback: None,
            default_time_zone: config.clinic_time_zone.clone(),
            phone_in_text: None,
        })
        .await?;
    // The clinic as its settings name it (falling back to the
    // configuration), so that texts say what the public pages say.
    let facts = super::clinic_facts(&state).await?;
    let clinic = &facts.name;
    let reply = if outcome.duplicate {
        // Answered the first time already.
        None
    } else {
        match keyword {
            Some(SmsKeyword::Stop) => Some(format!(
                "{clinic}: you will get no more texts from us. Reply START to receive texts again."
            )),
            Some(SmsKeyword::Start) => Some(format!(
                "{clinic}: you will receive our texts again. Reply STOP to stop, HELP for help."
            )),
            Some(SmsKeyword::Help) => Some(format!(
                "{clinic}: call us at {}. Reply STOP to stop texts.",
                facts
                    .phone
                    .as_deref()
                    .unwrap_or(&config.messaging.clinic_phone)
            )),
            None => match state.store.sms_permission(&from).await? {
                SmsPermission::Allowed => Some(format!(
                    "{clinic}: thank you, we have your message and will get back to you soon."
                )),
                SmsPermission::OptedOut | SmsPermission::NoConsent => None,
            },
        }
    };
    let verbs = reply.as_deref().map(twilio::message).unwrap_or_default();
    Ok(twiml(twilio::response(&verbs), Some(outcome.message_id)))
}

/// A call event: the first request of a call is answered with a greeting and
/// a recording; the recording (voicemail) and a missed call become callback
/// tasks with the caller's number and the recording link.
pub async fn voice(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let params = verified(&state, &uri, &headers, &body)?;
    let config = &state.config;
    let from = params.phone("From", &config.clinic_region)?;
    let call_sid = params.required("CallSid")?.to_owned();
    let recording_url = params.get("RecordingUrl").map(str::to_owned);
    if let Some(url) = &recording_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(refuse("RecordingUrl", "must be an http(s) URL"));
        }
    }
    let status = params.get("CallStatus").unwrap_or("ringing");
    let event = match (&recording_url, status) {
        (Some(_), _) => CallEvent::Voicemail,
        (None, "no-answer" | "busy" | "failed" | "canceled") => CallEvent::Missed,
        (None, "completed") => {
            // Twilio calls the recording's action before the call's final
            // status: a completed call without a voicemail is a missed one.
            let voicemail = format!("{call_sid}:voicemail");
            if state
                .store
                .has_message(MessageChannel::Voice, &voicemail)
                .await?
            {
                CallEvent::Ended
            } else {
                CallEvent::Missed
            }
        }
        (None, _) => CallEvent::Incoming,
    };
    let (suffix, text, callback) = match event {
        CallEvent::Incoming => ("incoming", "Incoming call".to_owned(), None),
        CallEvent::Voicemail => {
            let seconds = params
                .get("RecordingDuration")
                .and_then(|d| d.parse::<u32>().ok())
                .map_or_else(String::new, |d| format!(", {d} s"));
            (
                "voicemail",
                format!("Voicemail{seconds}"),
                Some(CallbackReason::Voicemail),
            )
        }
        CallEvent::Missed => (
            "missed",
            format!("Missed call ({status})"),
            Some(CallbackReason::MissedCall),
        ),
        CallEvent::Ended => ("ended", "Call ended".to_owned(), None),
    };
    let outcome = state
        .store
        .stamped(&audit)
        .record_inbound_message(&InboundMessage {
            channel: MessageChannel::Voice,
            from: ContactAddress::Phone(from),
            to: params.get("To").unwrap_or_default().to_owned(),
            body: text,
            external_id: format!("{call_sid}:{suffix}"),
            recording_url,
            in_reply_to: None,
            at: config.clock.now(),
            callback,
            default_time_zone: config.clinic_time_zone.clone(),
            phone_in_text: None,
        })
        .await?;
    let facts = super::clinic_facts(&state).await?;
    let clinic = &facts.name;
    let verbs = match event {
        CallEvent::Incoming => {
            let action = format!(
                "{}/webhooks/voice",
                config
                    .messaging
                    .public_url
                    .as_deref()
                    .unwrap_or_default()
                    .trim_end_matches('/')
            );
            format!(
                "{}<Record action=\"{}\" method=\"POST\" maxLength=\"180\" playBeep=\"true\"/>{}",
                twilio::say(&format!(
                    "Thank you for calling {clinic}. Please leave your name, your number and \
                     the best time to call you back after the tone."
                )),
                twilio::xml_escape(&action),
                twilio::say("We did not receive a message. Goodbye."),
            )
        }
        CallEvent::Voicemail => format!(
            "{}<Hangup/>",
            twilio::say("Thank you. We will call you back soon. Goodbye.")
        ),
        CallEvent::Missed | CallEvent::Ended => String::new(),
    };
    Ok(twiml(twilio::response(&verbs), Some(outcome.message_id)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallEvent {
    Incoming,
    Voicemail,
    Missed,
    Ended,
}
