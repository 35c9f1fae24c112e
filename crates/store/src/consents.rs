//! Consent to be contacted, per address and channel (append-only; the
//! latest decision is in force), and SMS opt-outs. What each way in implies
//! is `respite_domain::consent`'s policy; this module records it.

use jiff::Timestamp;
use respite_domain::consent::{self, InboundConsent};
use respite_domain::inquiry::NewInquiry;
use respite_domain::messaging::MessageChannel;
use respite_domain::thread::ContactAddress;
use respite_domain::PhoneNumber;

use crate::{from_millis, to_millis, Store, StoreResult};

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

#[derive(sqlx::FromRow)]
struct ConsentRow {
    address: String,
    channel: String,
    granted: i64,
    at: i64,
    source: String,
}

impl Store {
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
        latest(&mut conn, address.as_str(), channel).await
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
        insert(
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

/// Records the consent a web-form inquiry (or public booking) gave, in the
/// transaction that opened its thread.
pub(crate) async fn record_form_consent(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    inquiry: &NewInquiry,
    at: Timestamp,
) -> StoreResult<()> {
    let grants = consent::form_grants(
        inquiry.consent_to_contact,
        inquiry.phone.as_ref(),
        inquiry.email.as_ref(),
    );
    for (address, channel) in grants {
        let address = address.as_str();
        insert(
            conn,
            Some(inquiry_id),
            address,
            channel,
            true,
            at,
            consent::WEB_FORM,
        )
        .await?;
    }
    Ok(())
}

/// Records what an inbound message from `address` on `channel` does to
/// consent (and, for STOP and START, to the SMS opt-out list).
pub(crate) async fn apply_inbound(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    address: &str,
    channel: MessageChannel,
    effect: InboundConsent,
    at: Timestamp,
) -> StoreResult<()> {
    let decided = latest(conn, address, channel).await?.is_some();
    let Some(granted) = effect.decision(decided) else {
        return Ok(());
    };
    if let Some(opted_out) = effect.sms_opt_out(channel) {
        sqlx::query(
            "INSERT INTO sms_opt_outs (phone_e164, opted_out_at, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (phone_e164) DO UPDATE SET opted_out_at = excluded.opted_out_at, \
             updated_at = excluded.updated_at",
        )
        .bind(address)
        .bind(opted_out.then(|| to_millis(at)))
        .bind(to_millis(at))
        .execute(&mut *conn)
        .await?;
    }
    insert(
        conn,
        Some(inquiry_id),
        address,
        channel,
        granted,
        at,
        effect.source,
    )
    .await
}

pub(crate) async fn latest(
    conn: &mut sqlx::AnyConnection,
    address: &str,
    channel: MessageChannel,
) -> StoreResult<Option<ConsentRecord>> {
    let row: Option<ConsentRow> = sqlx::query_as(
        "SELECT address, channel, granted, at, source FROM contact_consents \
         WHERE address = $1 AND channel = $2 ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(address)
    .bind(channel.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        Ok(ConsentRecord {
            address: row.address,
            channel: row.channel,
            granted: row.granted == 1,
            at: from_millis(row.at)?,
            source: row.source,
        })
    })
    .transpose()
}

pub(crate) async fn insert(
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
