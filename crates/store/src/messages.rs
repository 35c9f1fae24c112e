//! Messages of a person's thread (texts, calls, e-mails), SMS opt-outs and
//! consent per channel (issue 5, items 1 and 5).
//!
//! One thread per person: an inbound contact from a phone number (E.164) or
//! an e-mail address joins that person's open inquiry, or opens a new one,
//! in the same transaction that stores the message. The provider's id of the
//! message is unique per channel, so a webhook delivered twice stores one
//! message.

use jiff::Timestamp;
use respite_domain::inquiry::{Channel, NewInquiry, PainArea, PainDuration, PreferredChannel};
use respite_domain::messaging::MessageChannel;
use respite_domain::{Email, PhoneNumber};

use crate::inquiries::{self, CallbackReason, InquiryStatus};
use crate::{from_millis, is_unique_violation, to_millis, Store, StoreError, StoreResult};

/// Where a person can be reached: the key of their thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactAddress {
    Phone(PhoneNumber),
    Email(Email),
}

impl ContactAddress {
    pub fn as_str(&self) -> &str {
        match self {
            ContactAddress::Phone(phone) => phone.as_e164(),
            ContactAddress::Email(email) => email.as_str(),
        }
    }
}

/// What an inbound message does to the person's consent on its channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentEffect {
    /// Nothing.
    Unchanged,
    /// Contacting the clinic on a channel consents to an answer on it, unless
    /// a consent decision is recorded already (a texted "hello" after STOP
    /// does not undo the STOP; only START does).
    ImpliedByContact,
    /// Withdraws consent; on SMS also opts the number out (STOP).
    Withdraw,
    /// Grants consent; on SMS also opts the number in again (START).
    Grant,
}

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
    pub consent: ConsentEffect,
    /// Where the consent change came from, e.g. `sms keyword STOP`.
    pub consent_source: String,
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

/// Whether a text may be sent to a number now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsPermission {
    Allowed,
    /// The number texted STOP and has not texted START since.
    OptedOut,
    /// No consent to texts is recorded, or it was withdrawn.
    NoConsent,
}

/// A recorded consent decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRecord {
    pub address: String,
    pub channel: String,
    pub granted: bool,
    pub at: Timestamp,
    pub source: String,
}

type MessageRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

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
        let mut tx = self.begin_person(&[address]).await?;
        if let Some(existing) = find_message(&mut tx, message.channel, &message.external_id).await?
        {
            return Ok(existing);
        }
        let open = match &message.from {
            ContactAddress::Phone(phone) => {
                crate::threads::open_thread_of(&mut tx, Some(phone.as_e164()), None).await?
            }
            ContactAddress::Email(email) => {
                crate::threads::open_thread_of(&mut tx, None, Some(email.as_str())).await?
            }
        };
        let (inquiry_id, new_inquiry) = match open {
            Some(thread) => (thread.id, false),
            None => {
                let inquiry = new_inquiry_for(message);
                let id =
                    inquiries::insert(&mut tx, &inquiry, message.at, InquiryStatus::New).await?;
                if message.channel != MessageChannel::Voice && message.callback.is_none() {
                    // Like a web inquiry, a first text or e-mail is someone
                    // to call back; calls bring their own task below.
                    inquiries::create_callback_task(
                        &mut tx,
                        id,
                        CallbackReason::Inquiry,
                        inquiry.phone.as_ref().map(PhoneNumber::as_e164),
                        None,
                        message.at,
                    )
                    .await?;
                }
                (id, true)
            }
        };
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
        apply_consent(&mut tx, inquiry_id, message).await?;
        tx.commit().await?;
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
        .fetch_one(&self.pool)
        .await?;
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
                let (id, inquiry_id, at, direction, channel, from, to, body, external_id, rec, irt) =
                    row;
                Ok(MessageRecord {
                    id,
                    inquiry_id,
                    at: from_millis(at)?,
                    inbound: direction == "in",
                    channel,
                    from,
                    to,
                    body,
                    external_id,
                    recording_url: rec,
                    in_reply_to: irt,
                })
            })
            .collect()
    }

    /// Whether a text may go to `phone` now: not opted out, and consent to
    /// texts recorded and not withdrawn.
    pub async fn sms_permission(&self, phone: &PhoneNumber) -> StoreResult<SmsPermission> {
        let opted_out: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT opted_out_at FROM sms_opt_outs WHERE phone_e164 = $1")
                .bind(phone.as_e164())
                .fetch_optional(&self.pool)
                .await?;
        if matches!(opted_out, Some((Some(_),))) {
            return Ok(SmsPermission::OptedOut);
        }
        let consent = self
            .consent(&ContactAddress::Phone(phone.clone()), MessageChannel::Sms)
            .await?;
        Ok(match consent {
            Some(record) if record.granted => SmsPermission::Allowed,
            _ => SmsPermission::NoConsent,
        })
    }

    /// The consent decision in force for an address on a channel.
    pub async fn consent(
        &self,
        address: &ContactAddress,
        channel: MessageChannel,
    ) -> StoreResult<Option<ConsentRecord>> {
        let mut conn = self.pool.acquire().await?;
        latest_consent(&mut conn, address.as_str(), channel).await
    }

    /// Records a consent decision (e.g. the web form's consent box).
    pub async fn record_consent(
        &self,
        inquiry_id: Option<i64>,
        address: &ContactAddress,
        channel: MessageChannel,
        granted: bool,
        at: Timestamp,
        source: &str,
    ) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        insert_consent(
            &mut conn,
            inquiry_id,
            address.as_str(),
            channel,
            granted,
            at,
            source,
        )
        .await
    }
}

/// Records the consent a web-form inquiry gave, for each channel its contact
/// details allow, in the inquiry's transaction.
pub(crate) async fn record_form_consent(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    inquiry: &NewInquiry,
    at: Timestamp,
) -> StoreResult<()> {
    if !inquiry.consent_to_contact {
        return Ok(());
    }
    if let Some(phone) = &inquiry.phone {
        for channel in [MessageChannel::Sms, MessageChannel::Voice] {
            let address = phone.as_e164();
            insert_consent(
                conn,
                Some(inquiry_id),
                address,
                channel,
                true,
                at,
                "web form",
            )
            .await?;
        }
    }
    if let Some(email) = &inquiry.email {
        let address = email.as_str();
        insert_consent(
            conn,
            Some(inquiry_id),
            address,
            MessageChannel::Email,
            true,
            at,
            "web form",
        )
        .await?;
    }
    Ok(())
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
        pain_area: PainArea::Other,
        pain_duration: PainDuration::NotSure,
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

async fn apply_consent(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    message: &InboundMessage,
) -> StoreResult<()> {
    let address = message.from.as_str();
    let granted = match message.consent {
        ConsentEffect::Unchanged => return Ok(()),
        ConsentEffect::ImpliedByContact => {
            if latest_consent(conn, address, message.channel)
                .await?
                .is_some()
            {
                return Ok(());
            }
            true
        }
        ConsentEffect::Withdraw => false,
        ConsentEffect::Grant => true,
    };
    let explicit = matches!(
        message.consent,
        ConsentEffect::Withdraw | ConsentEffect::Grant
    );
    if explicit && message.channel == MessageChannel::Sms {
        let opted_out_at = (!granted).then(|| to_millis(message.at));
        sqlx::query(
            "INSERT INTO sms_opt_outs (phone_e164, opted_out_at, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (phone_e164) DO UPDATE SET opted_out_at = excluded.opted_out_at, \
             updated_at = excluded.updated_at",
        )
        .bind(address)
        .bind(opted_out_at)
        .bind(to_millis(message.at))
        .execute(&mut *conn)
        .await?;
    }
    insert_consent(
        conn,
        Some(inquiry_id),
        address,
        message.channel,
        granted,
        message.at,
        &message.consent_source,
    )
    .await
}

async fn latest_consent(
    conn: &mut sqlx::AnyConnection,
    address: &str,
    channel: MessageChannel,
) -> StoreResult<Option<ConsentRecord>> {
    let row: Option<(String, String, i64, i64, String)> = sqlx::query_as(
        "SELECT address, channel, granted, at, source FROM contact_consents \
         WHERE address = $1 AND channel = $2 ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(address)
    .bind(channel.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(address, channel, granted, at, source)| {
        Ok(ConsentRecord {
            address,
            channel,
            granted: granted == 1,
            at: from_millis(at)?,
            source,
        })
    })
    .transpose()
}

async fn insert_consent(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: Option<i64>,
    address: &str,
    channel: MessageChannel,
    granted: bool,
    at: Timestamp,
    source: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO contact_consents (inquiry_id, address, channel, granted, at, source) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(inquiry_id)
    .bind(address)
    .bind(channel.as_str())
    .bind(i64::from(granted))
    .bind(to_millis(at))
    .bind(source)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
