//! Messages of a person's thread (texts, calls, e-mails; SPEC §1 step 1).
//!
//! One thread per person: an inbound contact from a phone number (E.164) or
//! an e-mail address joins that person's open inquiry, or opens a new one
//! ([`crate::threads::join_or_open`]), in the same transaction that stores
//! the message and applies the consent its channel implies
//! (`respite_domain::consent`). The provider's id of the message is unique
//! per channel, so a webhook delivered twice stores one message.

use jiff::Timestamp;
use respite_domain::consent::InboundConsent;
use respite_domain::inquiry::{Channel, NewInquiry, PreferredChannel};
use respite_domain::messaging::MessageChannel;
use respite_domain::thread::{CallbackReason, ContactAddress, InquiryStatus};
use respite_domain::PhoneNumber;

use crate::threads::{join_or_open, Addresses};
use crate::{
    from_millis, inquiries, is_unique_violation, to_millis, Store, StoreError, StoreResult,
};

/// A message or call event that reached the clinic.
#[derive(Clone, Debug)]
pub struct InboundMessage {
    pub channel: MessageChannel,
    pub from: ContactAddress,
    pub to: String,
    pub body: String,
    /// The provider's id: Twilio MessageSid, CallSid plus event, Message-ID.
    pub external_id: String,
    pub recording_url: Option<String>,
    pub in_reply_to: Option<String>,
    pub at: Timestamp,
    /// A callback task to create with the message (missed call, voicemail).
    pub callback: Option<CallbackReason>,
    /// The time zone a new inquiry is given until the person tells theirs.
    pub default_time_zone: String,
    /// A phone number the person wrote in an e-mail: a new inquiry gets it
    /// (so staff can call back); ignored when the sender is a phone.
    pub phone_in_text: Option<PhoneNumber>,
}

/// What storing an inbound message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InboundOutcome {
    pub inquiry_id: i64,
    pub message_id: i64,
    /// A new inquiry was opened for this message.
    pub new_inquiry: bool,
    /// The message was stored before (same channel and provider id):
    /// nothing was written this time.
    pub duplicate: bool,
}

/// A message the clinic sent, to be recorded in the thread.
#[derive(Clone, Debug)]
pub struct OutboundMessage {
    pub inquiry_id: i64,
    pub channel: MessageChannel,
    pub from: String,
    pub to: String,
    pub body: String,
    pub external_id: String,
    pub in_reply_to: Option<String>,
    pub at: Timestamp,
}

/// A stored message, as the thread shows it.
#[derive(Clone, Debug)]
pub struct MessageRecord {
    pub id: i64,
    pub inquiry_id: i64,
    pub at: Timestamp,
    pub inbound: bool,
    pub channel: String,
    pub from: String,
    pub to: String,
    pub body: String,
    pub external_id: String,
    pub recording_url: Option<String>,
    pub in_reply_to: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: i64,
    inquiry_id: i64,
    at: i64,
    direction: String,
    channel: String,
    from_address: String,
    to_address: String,
    body: String,
    external_id: String,
    recording_url: Option<String>,
    in_reply_to: Option<String>,
}

impl Store {
    /// Stores an inbound message in its person's thread, opening a new
    /// inquiry when the person has no open one, with its callback task and
    /// consent change: all in one transaction, or nothing. Storing the same
    /// message (channel and provider id) again changes nothing and reports
    /// the first one.
    pub async fn record_inbound_message(
        &self,
        message: &InboundMessage,
    ) -> StoreResult<InboundOutcome> {
        match self.try_record_inbound(message).await {
            Err(StoreError::Database(err)) if is_unique_violation(&err) => {
                // A concurrent delivery of the same message won the race.
                self.existing_message(message.channel, &message.external_id)
                    .await?
                    .ok_or(StoreError::Database(err))
            }
            other => other,
        }
    }

    async fn try_record_inbound(&self, message: &InboundMessage) -> StoreResult<InboundOutcome> {
        // Two first contacts from one person arriving together must not open
        // two threads: the find-or-create below runs serialised per person.
        let address = message.from.as_str();
        // The number written in an e-mail is locked too: whether it is
        // another open thread's is read in this transaction.
        let mentioned = match &message.from {
            ContactAddress::Email(_) => message.phone_in_text.as_ref().map(PhoneNumber::as_e164),
            ContactAddress::Phone(_) => None,
        };
        let locks: Vec<&str> = std::iter::once(address).chain(mentioned).collect();
        let mut tx = self.begin_person(&locks).await?;
        if let Some(existing) = find_message(&mut tx, message.channel, &message.external_id).await?
        {
            return Ok(existing);
        }
        let find = match &message.from {
            ContactAddress::Phone(phone) => Addresses {
                phone: Some(phone.as_e164()),
                email: None,
            },
            ContactAddress::Email(email) => Addresses {
                phone: None,
                email: Some(email.as_str()),
            },
        };
        let opening = new_inquiry_for(message);
        // A phone number written in an e-mail is a new thread's number, or
        // an unverified one of the thread it joins.
        let brings = Addresses {
            phone: opening.phone.as_ref().map(PhoneNumber::as_e164),
            email: opening.email.as_ref().map(|e| e.as_str()),
        };
        let thread = join_or_open(
            &mut tx,
            find,
            brings,
            message.channel.as_str(),
            &opening,
            InquiryStatus::New,
            message.at,
        )
        .await?;
        let (inquiry_id, new_inquiry) = (thread.id, thread.opened);
        if new_inquiry && message.channel != MessageChannel::Voice && message.callback.is_none() {
            // Like a web inquiry, a first text or e-mail is someone to call
            // back; calls bring their own task below.
            inquiries::create_callback_task(
                &mut tx,
                inquiry_id,
                CallbackReason::Inquiry,
                opening.phone.as_ref().map(PhoneNumber::as_e164),
                None,
                message.at,
            )
            .await?;
        }
        let (message_id,): (i64,) = sqlx::query_as(
            "INSERT INTO messages (inquiry_id, at, direction, channel, from_address, to_address, \
             body, external_id, recording_url, in_reply_to) \
             VALUES ($1, $2, 'in', $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(inquiry_id)
        .bind(to_millis(message.at))
        .bind(message.channel.as_str())
        .bind(address)
        .bind(&message.to)
        .bind(&message.body)
        .bind(&message.external_id)
        .bind(message.recording_url.as_deref())
        .bind(message.in_reply_to.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(reason) = message.callback {
            let phone = match &message.from {
                ContactAddress::Phone(phone) => Some(phone.as_e164()),
                ContactAddress::Email(_) => None,
            };
            inquiries::create_callback_task(
                &mut tx,
                inquiry_id,
                reason,
                phone,
                message.recording_url.as_deref(),
                message.at,
            )
            .await?;
        }
        crate::consents::apply_inbound(
            &mut tx,
            inquiry_id,
            address,
            message.channel,
            InboundConsent::of(message.channel, &message.body),
            message.at,
        )
        .await?;
        self.commit(tx, Some(&message_id.to_string())).await?;
        Ok(InboundOutcome {
            inquiry_id,
            message_id,
            new_inquiry,
            duplicate: false,
        })
    }

    async fn existing_message(
        &self,
        channel: MessageChannel,
        external_id: &str,
    ) -> StoreResult<Option<InboundOutcome>> {
        let mut conn = self.pool.acquire().await?;
        find_message(&mut conn, channel, external_id).await
    }

    /// Whether a message with this provider id is stored on `channel`.
    pub async fn has_message(
        &self,
        channel: MessageChannel,
        external_id: &str,
    ) -> StoreResult<bool> {
        Ok(self.existing_message(channel, external_id).await?.is_some())
    }

    /// Records a message the clinic sent (after the provider accepted it).
    pub async fn record_outbound_message(&self, message: &OutboundMessage) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO messages (inquiry_id, at, direction, channel, from_address, to_address, \
             body, external_id, recording_url, in_reply_to) \
             VALUES ($1, $2, 'out', $3, $4, $5, $6, $7, NULL, $8) RETURNING id",
        )
        .bind(message.inquiry_id)
        .bind(to_millis(message.at))
        .bind(message.channel.as_str())
        .bind(&message.from)
        .bind(&message.to)
        .bind(&message.body)
        .bind(&message.external_id)
        .bind(message.in_reply_to.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(id)
    }

    /// Every message and call of an inquiry's thread, oldest first.
    pub async fn thread_messages(&self, inquiry_id: i64) -> StoreResult<Vec<MessageRecord>> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT id, inquiry_id, at, direction, channel, from_address, to_address, body, \
             external_id, recording_url, in_reply_to FROM messages WHERE inquiry_id = $1 \
             ORDER BY at, id",
        )
        .bind(inquiry_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(MessageRecord {
                    id: row.id,
                    inquiry_id: row.inquiry_id,
                    at: from_millis(row.at)?,
                    inbound: row.direction == "in",
                    channel: row.channel,
                    from: row.from_address,
                    to: row.to_address,
                    body: row.body,
                    external_id: row.external_id,
                    recording_url: row.recording_url,
                    in_reply_to: row.in_reply_to,
                })
            })
            .collect()
    }
}

fn new_inquiry_for(message: &InboundMessage) -> NewInquiry {
    let (channel, preferred_channel) = match message.channel {
        MessageChannel::Sms => (Channel::Sms, PreferredChannel::Text),
        MessageChannel::Voice => (Channel::Voice, PreferredChannel::Phone),
        MessageChannel::Email => (Channel::Email, PreferredChannel::Email),
    };
    let (phone, email) = match &message.from {
        ContactAddress::Phone(phone) => (Some(phone.clone()), None),
        ContactAddress::Email(email) => (message.phone_in_text.clone(), Some(email.clone())),
    };
    NewInquiry {
        channel,
        // The person has not told us their name yet: staff see the address.
        name: message.from.as_str().to_owned(),
        phone,
        email,
        preferred_channel,
        windows: Vec::new(),
        time_zone: message.default_time_zone.clone(),
        // Nobody asked yet: unknown, not "other, not sure".
        pain_area: None,
        pain_duration: None,
        message: message.body.clone(),
        // Consent is recorded per channel in `contact_consents`.
        consent_to_contact: false,
    }
}

async fn find_message(
    conn: &mut sqlx::AnyConnection,
    channel: MessageChannel,
    external_id: &str,
) -> StoreResult<Option<InboundOutcome>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT id, inquiry_id FROM messages WHERE channel = $1 AND external_id = $2",
    )
    .bind(channel.as_str())
    .bind(external_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(message_id, inquiry_id)| InboundOutcome {
        inquiry_id,
        message_id,
        new_inquiry: false,
        duplicate: true,
    }))
}
