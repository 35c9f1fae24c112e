//! Inquiries: the one queue every channel feeds (SPEC §1 step 1). This
//! module owns the `inquiries` row: it is the only one that writes it. Other
//! modules change a thread through the named steps below (`mark_contacted`,
//! `mark_booked`, `close`, …), inside their own transactions.

use jiff::Timestamp;
use respite_domain::inquiry::NewInquiry;
use respite_domain::thread::{windows_text, CallbackReason, ClosedReason, InquiryStatus};

use crate::lists::{contact_clauses, Keyset, PageAt, Paged, Param};
use crate::{from_millis, to_millis, Store, StoreError, StoreResult};

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
    /// `None`: not given (the thread was opened by a booking, a text, a
    /// call or an e-mail).
    pub pain_area: Option<String>,
    pub pain_duration: Option<String>,
    pub message: String,
    pub status: InquiryStatus,
}

#[derive(sqlx::FromRow)]
struct InquiryRow {
    id: i64,
    received_at: i64,
    channel: String,
    name: String,
    phone_e164: Option<String>,
    email: Option<String>,
    preferred_channel: String,
    contact_windows: String,
    time_zone: String,
    pain_area: Option<String>,
    pain_duration: Option<String>,
    message: String,
    status: String,
}

const COLUMNS: &str = "id, received_at, channel, name, phone_e164, email, preferred_channel, \
     contact_windows, time_zone, pain_area, pain_duration, message, status";

impl InquiryRow {
    fn parse(self) -> StoreResult<InquiryRecord> {
        Ok(InquiryRecord {
            id: self.id,
            received_at: from_millis(self.received_at)?,
            channel: self.channel,
            name: self.name,
            phone_e164: self.phone_e164,
            email: self.email,
            preferred_channel: self.preferred_channel,
            contact_windows: self.contact_windows,
            time_zone: self.time_zone,
            pain_area: self.pain_area,
            pain_duration: self.pain_duration,
            message: self.message,
            status: parse_status(&self.status)?,
        })
    }
}

/// [`COLUMNS`] of the table aliased `i`.
fn prefixed_columns() -> String {
    COLUMNS
        .split(',')
        .map(|c| format!("i.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the inquiry queue is searched for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InquiryQuery {
    pub status: InquiryStatus,
    /// A name, e-mail address or phone number (any formatting), or part of one.
    pub text: String,
}

/// Reads a stored status.
pub(crate) fn parse_status(stored: &str) -> StoreResult<InquiryStatus> {
    InquiryStatus::parse(stored)
        .ok_or_else(|| StoreError::Corrupt(format!("inquiry status `{stored}`")))
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
        let mut tx = self.begin_write().await?;
        let id = insert(&mut tx, inquiry, received_at, status).await?;
        crate::consents::record_form_consent(&mut tx, id, inquiry, received_at).await?;
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
        self.commit(tx, Some(&id.to_string())).await?;
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
        rows.into_iter().map(InquiryRow::parse).collect()
    }

    /// One page of the inquiries with `query.status` whose name, e-mail or
    /// phone matches `query.text`: the open ones (new, contacted) oldest
    /// first, the queue's order; booked and closed ones newest first
    /// (keyset on received time and id: see `lists`).
    pub async fn inquiry_page(
        &self,
        query: &InquiryQuery,
        at: PageAt,
        size: i64,
    ) -> StoreResult<Paged<InquiryRecord>> {
        let mut params = vec![Param::Text(query.status.as_str().to_owned())];
        let mut clauses = vec!["i.status = $1".to_owned()];
        clauses.extend(contact_clauses(
            &query.text,
            "i.name",
            "i.email",
            "i.phone_e164",
            &mut params,
        ));
        let select = format!("SELECT {} FROM inquiries i", prefixed_columns());
        let list = Keyset {
            select: &select,
            from: "FROM inquiries i",
            filter: clauses.join(" AND "),
            params,
            key: "i.received_at, i.id",
            key_of: "SELECT received_at, id FROM inquiries WHERE id = ",
            descending: !query.status.awaits_contact(),
        };
        let page = self
            .keyset_page(&list, at, size, |row: &InquiryRow| row.id)
            .await?;
        Ok(Paged {
            rows: page
                .rows
                .into_iter()
                .map(InquiryRow::parse)
                .collect::<StoreResult<_>>()?,
            offset: page.offset,
            total: page.total,
            has_previous: page.has_previous,
            has_next: page.has_next,
        })
    }

    /// How many inquiries have each status.
    pub async fn inquiry_counts(&self) -> StoreResult<Vec<(InquiryStatus, i64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM inquiries GROUP BY status")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(status, n)| Ok((parse_status(&status)?, n)))
            .collect()
    }

    pub async fn inquiry(&self, id: i64) -> StoreResult<Option<InquiryRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM inquiries WHERE id = $1");
        let row: Option<InquiryRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(InquiryRow::parse).transpose()
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
            return Err(StoreError::ClosedReasonMismatch);
        }
        let mut conn = self.pool.acquire().await?;
        set_status(&mut conn, id, status, reason).await
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
    .bind(windows_text(&inquiry.windows))
    .bind(&inquiry.time_zone)
    .bind(inquiry.pain_area.map(|a| a.as_str()))
    .bind(inquiry.pain_duration.map(|d| d.as_str()))
    .bind(&inquiry.message)
    .bind(inquiry.consent_to_contact.then(|| to_millis(received_at)))
    .bind(status.as_str())
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// The thread's status now.
pub(crate) async fn status_of(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> StoreResult<InquiryStatus> {
    let (status,): (String,) = sqlx::query_as("SELECT status FROM inquiries WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    parse_status(&status)
}

/// Sets any status (with its close reason, or none); false when there is
/// no such inquiry.
async fn set_status(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    status: InquiryStatus,
    reason: Option<ClosedReason>,
) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE inquiries SET status = $1, closed_reason = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(reason.map(ClosedReason::as_str))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The person was reached.
pub(crate) async fn mark_contacted(conn: &mut sqlx::AnyConnection, id: i64) -> StoreResult<()> {
    set_status(conn, id, InquiryStatus::Contacted, None).await?;
    Ok(())
}

/// A consultation was booked for the thread; false when the thread is
/// closed or does not exist (a closed thread is never reopened here).
pub(crate) async fn mark_booked(conn: &mut sqlx::AnyConnection, id: i64) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE inquiries SET status = $1 WHERE id = $2 AND status <> $3")
        .bind(InquiryStatus::ConsultationBooked.as_str())
        .bind(id)
        .bind(InquiryStatus::Closed.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Closes the thread for `reason`; a thread closed already keeps its
/// first reason.
pub(crate) async fn close(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    reason: ClosedReason,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE inquiries SET status = $1, closed_reason = $2 WHERE id = $3 AND status <> $1",
    )
    .bind(InquiryStatus::Closed.as_str())
    .bind(reason.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Gives a closed thread (the demo's history) its reason.
pub(crate) async fn set_closed_reason(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    reason: ClosedReason,
) -> StoreResult<()> {
    sqlx::query("UPDATE inquiries SET closed_reason = $1 WHERE id = $2 AND status = $3")
        .bind(reason.as_str())
        .bind(id)
        .bind(InquiryStatus::Closed.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The thread's own person wrote again: their latest details (best times,
/// time zone, pain, preferred channel) replace the thread's. Its consent
/// and addresses are not touched: a form is not authenticated.
pub(crate) async fn update_details(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    inquiry: &NewInquiry,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE inquiries SET preferred_channel = $1, contact_windows = $2, \
         time_zone = $3, pain_area = COALESCE($4, pain_area), \
         pain_duration = COALESCE($5, pain_duration) WHERE id = $6",
    )
    .bind(inquiry.preferred_channel.as_str())
    .bind(windows_text(&inquiry.windows))
    .bind(&inquiry.time_zone)
    .bind(inquiry.pain_area.map(|a| a.as_str()))
    .bind(inquiry.pain_duration.map(|d| d.as_str()))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The person's time zone, as their booking gave it.
pub(crate) async fn set_time_zone(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    time_zone: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE inquiries SET time_zone = $1 WHERE id = $2")
        .bind(time_zone)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes the thread's row lock for the rest of the transaction (a
/// PostgreSQL row lock; SQLite's write lock is held already), so that two
/// contacts joining the thread by different addresses write its messages
/// one after the other.
pub(crate) async fn lock(conn: &mut sqlx::AnyConnection, id: i64) -> StoreResult<()> {
    sqlx::query("UPDATE inquiries SET id = id WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Makes `address` the thread's phone number or e-mail address (`kind`):
/// only for an address staff confirmed with the person.
pub(crate) async fn set_address(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    kind: AddressKind,
    address: &str,
) -> StoreResult<()> {
    let sql = match kind {
        AddressKind::Phone => "UPDATE inquiries SET phone_e164 = $1 WHERE id = $2",
        AddressKind::Email => "UPDATE inquiries SET email = $1 WHERE id = $2",
    };
    sqlx::query(sql)
        .bind(address)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Which of a thread's two addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressKind {
    Phone,
    Email,
}

impl AddressKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AddressKind::Phone => "phone",
            AddressKind::Email => "email",
        }
    }

    pub fn parse(text: &str) -> Option<AddressKind> {
        [AddressKind::Phone, AddressKind::Email]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Links the inquiry to the patient chart made from it; false when it has
/// one already (a concurrent conversion won).
pub(crate) async fn link_patient(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    patient_id: i64,
) -> StoreResult<bool> {
    let claimed =
        sqlx::query("UPDATE inquiries SET patient_id = $1 WHERE id = $2 AND patient_id IS NULL")
            .bind(patient_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    Ok(claimed.rows_affected() == 1)
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

/// Marks every open callback task of the thread done (the person was
/// booked, or the thread closed).
pub(crate) async fn finish_callbacks(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query("UPDATE callback_tasks SET done_at = $1 WHERE inquiry_id = $2 AND done_at IS NULL")
        .bind(to_millis(at))
        .bind(inquiry_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether the thread has a callback task not yet done.
pub(crate) async fn has_open_callback(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
) -> StoreResult<bool> {
    let (open,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM callback_tasks WHERE inquiry_id = $1 AND done_at IS NULL",
    )
    .bind(inquiry_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(open > 0)
}
