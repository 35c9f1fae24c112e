//! Inquiries: the one queue every channel feeds (SPEC §1 step 1).

use jiff::Timestamp;
use respite_domain::inquiry::NewInquiry;

use crate::{from_millis, to_millis, Store, StoreError, StoreResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InquiryStatus {
    New,
    Contacted,
    ConsultationBooked,
    Closed,
}

/// Why a thread was closed (SPEC §1 step 1; issue 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosedReason {
    Booked,
    NotACandidate,
    NoAnswer,
    AskedToStop,
}

impl ClosedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ClosedReason::Booked => "booked",
            ClosedReason::NotACandidate => "not-a-candidate",
            ClosedReason::NoAnswer => "no-answer",
            ClosedReason::AskedToStop => "asked-to-stop",
        }
    }
}

/// Why someone is to be called back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackReason {
    Inquiry,
    MissedCall,
    Voicemail,
}

impl CallbackReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackReason::Inquiry => "inquiry",
            CallbackReason::MissedCall => "missed-call",
            CallbackReason::Voicemail => "voicemail",
        }
    }
}

impl InquiryStatus {
    /// Reads a stored status.
    pub fn parse(stored: &str) -> StoreResult<InquiryStatus> {
        [
            InquiryStatus::New,
            InquiryStatus::Contacted,
            InquiryStatus::ConsultationBooked,
            InquiryStatus::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == stored)
        .ok_or_else(|| StoreError::Corrupt(format!("inquiry status `{stored}`")))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InquiryStatus::New => "new",
            InquiryStatus::Contacted => "contacted",
            InquiryStatus::ConsultationBooked => "consultation-booked",
            InquiryStatus::Closed => "closed",
        }
    }
}

/// A stored inquiry, as the staff pages show it.
#[derive(Clone, Debug)]
pub struct InquiryRecord {
    pub id: i64,
    pub received_at: Timestamp,
    pub channel: String,
    pub name: String,
    pub phone_e164: Option<String>,
    pub email: Option<String>,
    pub preferred_channel: String,
    pub contact_windows: String,
    pub time_zone: String,
    pub pain_area: String,
    pub pain_duration: String,
    pub message: String,
    pub status: String,
}

type InquiryRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

const COLUMNS: &str = "id, received_at, channel, name, phone_e164, email, preferred_channel, \
     contact_windows, time_zone, pain_area, pain_duration, message, status";

fn from_row(row: InquiryRow) -> StoreResult<InquiryRecord> {
    let (
        id,
        at,
        channel,
        name,
        phone,
        email,
        preferred,
        windows,
        tz,
        area,
        duration,
        message,
        status,
    ) = row;
    Ok(InquiryRecord {
        id,
        received_at: from_millis(at)?,
        channel,
        name,
        phone_e164: phone,
        email,
        preferred_channel: preferred,
        contact_windows: windows,
        time_zone: tz,
        pain_area: area,
        pain_duration: duration,
        message,
        status,
    })
}

impl Store {
    /// Stores an inquiry and returns its id once it is committed: a caller
    /// may acknowledge it to the person only after this returns.
    pub async fn insert_inquiry(
        &self,
        inquiry: &NewInquiry,
        received_at: Timestamp,
    ) -> StoreResult<i64> {
        self.insert_inquiry_with_status(inquiry, received_at, InquiryStatus::New)
            .await
    }

    pub async fn insert_inquiry_with_status(
        &self,
        inquiry: &NewInquiry,
        received_at: Timestamp,
        status: InquiryStatus,
    ) -> StoreResult<i64> {
        // The inquiry and its first callback task commit together.
        let mut tx = self.pool.begin().await?;
        let id = insert(&mut tx, inquiry, received_at, status).await?;
        crate::messages::record_form_consent(&mut tx, id, inquiry, received_at).await?;
        if status == InquiryStatus::New {
            let phone = inquiry.phone.as_ref().map(|p| p.as_e164());
            create_callback_task(
                &mut tx,
                id,
                CallbackReason::Inquiry,
                phone,
                None,
                received_at,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Inquiries with `status`, oldest first (the queue order).
    pub async fn inquiries_with_status(
        &self,
        status: InquiryStatus,
        limit: i64,
    ) -> StoreResult<Vec<InquiryRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM inquiries WHERE status = $1 ORDER BY received_at, id LIMIT $2"
        );
        let rows: Vec<InquiryRow> = sqlx::query_as(&sql)
            .bind(status.as_str())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(from_row).collect()
    }

    pub async fn inquiry(&self, id: i64) -> StoreResult<Option<InquiryRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM inquiries WHERE id = $1");
        let row: Option<InquiryRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(from_row).transpose()
    }

    /// Moves a thread to `status`; `closed` needs a reason and nothing else
    /// takes one. Returns false when there is no such inquiry.
    pub async fn set_inquiry_status(
        &self,
        id: i64,
        status: InquiryStatus,
        reason: Option<ClosedReason>,
    ) -> StoreResult<bool> {
        if (status == InquiryStatus::Closed) != reason.is_some() {
            return Err(StoreError::Conflict {
                field: "closed_reason",
                message: "is required to close a thread, and only then".into(),
            });
        }
        let done =
            sqlx::query("UPDATE inquiries SET status = $1, closed_reason = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(reason.map(ClosedReason::as_str))
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Adds someone to call back for inquiry `inquiry_id`.
    pub async fn create_callback_task(
        &self,
        inquiry_id: i64,
        reason: CallbackReason,
        phone_e164: Option<&str>,
        recording_url: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<i64> {
        let mut conn = self.pool.acquire().await?;
        create_callback_task(&mut conn, inquiry_id, reason, phone_e164, recording_url, at).await
    }

    pub async fn count_inquiries(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM inquiries")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}

/// The best times as stored, e.g. `weekdays 17:00-19:00; weekends 10:00-12:00`.
pub(crate) fn windows_text(inquiry: &NewInquiry) -> String {
    inquiry
        .windows
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) async fn insert(
    conn: &mut sqlx::AnyConnection,
    inquiry: &NewInquiry,
    received_at: Timestamp,
    status: InquiryStatus,
) -> StoreResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO inquiries (received_at, channel, name, phone_e164, email, \
             preferred_channel, contact_windows, time_zone, pain_area, pain_duration, message, \
             consent_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(to_millis(received_at))
    .bind(inquiry.channel.as_str())
    .bind(&inquiry.name)
    .bind(inquiry.phone.as_ref().map(|p| p.as_e164().to_owned()))
    .bind(inquiry.email.as_ref().map(|e| e.as_str().to_owned()))
    .bind(inquiry.preferred_channel.as_str())
    .bind(windows_text(inquiry))
    .bind(&inquiry.time_zone)
    .bind(inquiry.pain_area.as_str())
    .bind(inquiry.pain_duration.as_str())
    .bind(&inquiry.message)
    .bind(inquiry.consent_to_contact.then(|| to_millis(received_at)))
    .bind(status.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

pub(crate) async fn create_callback_task(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    reason: CallbackReason,
    phone_e164: Option<&str>,
    recording_url: Option<&str>,
    at: Timestamp,
) -> StoreResult<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO callback_tasks (inquiry_id, created_at, reason, phone_e164, recording_url) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(inquiry_id)
    .bind(to_millis(at))
    .bind(reason.as_str())
    .bind(phone_e164)
    .bind(recording_url)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}
