//! Inquiries: the one queue every channel feeds (SPEC §1 step 1).

use jiff::Timestamp;
use respite_domain::inquiry::NewInquiry;

use crate::{from_millis, to_millis, Store, StoreResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InquiryStatus {
    New,
    Contacted,
    ConsultationBooked,
    Closed,
}

impl InquiryStatus {
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
        let mut conn = self.pool.acquire().await?;
        insert(&mut conn, inquiry, received_at, status).await
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

    pub async fn count_inquiries(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM inquiries")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}

pub(crate) async fn insert(
    conn: &mut sqlx::AnyConnection,
    inquiry: &NewInquiry,
    received_at: Timestamp,
    status: InquiryStatus,
) -> StoreResult<i64> {
    let windows = inquiry
        .windows
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
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
    .bind(windows)
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
