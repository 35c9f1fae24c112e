//! One thread per person (issue 5, item 1): the pieces every way in shares.
//!
//! A contact from a phone number (E.164) or an e-mail address that belongs
//! to an open inquiry joins that inquiry; otherwise it opens one. Finding
//! and opening must not race: two first contacts from one person arriving
//! together would open two threads. [`Store::begin_person`] serialises them:
//! on SQLite the write lock is taken before the read, on PostgreSQL a
//! transaction-scoped advisory lock is taken per address.

use jiff::Timestamp;
use respite_domain::inquiry::NewInquiry;

use crate::inquiries::{self, CallbackReason, InquiryStatus};
use crate::{to_millis, Engine, Store, StoreResult};

/// What became of a contact from the public web pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebContact {
    pub inquiry_id: i64,
    /// True when it joined the person's open thread instead of opening one.
    pub merged: bool,
}

/// 7274660: this crate's advisory-lock space for person threads.
const PERSON_LOCK_SPACE: i32 = 7274660;

impl Store {
    /// Begins a transaction in which a person's thread is found or opened,
    /// serialised against every other such transaction for any of
    /// `addresses`. PostgreSQL locks are taken in sorted order so that two
    /// contacts naming the same two addresses cannot deadlock.
    pub(crate) async fn begin_person(
        &self,
        addresses: &[&str],
    ) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        match self.engine {
            // Take the write lock before reading: a deferred transaction
            // would fail with SQLITE_BUSY_SNAPSHOT when another write lands
            // between its read and its insert.
            Engine::Sqlite => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Engine::Postgres => {
                let mut tx = self.pool.begin().await?;
                let mut sorted = addresses.to_vec();
                sorted.sort_unstable();
                sorted.dedup();
                for address in sorted {
                    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                        .bind(PERSON_LOCK_SPACE)
                        .bind(address)
                        .execute(&mut *tx)
                        .await?;
                }
                Ok(tx)
            }
        }
    }

    /// Stores an inquiry from the public form, committed before it returns
    /// (a caller acknowledges it only then). When the phone number or
    /// e-mail address belongs to an open thread, the form joins it: it fills
    /// in a contact the thread lacked, is kept as a message (with what the
    /// form said), and the thread gets a callback task unless one is open.
    /// Only when the form gives the thread's own name does it also take the
    /// latest details (best times, time zone, pain): a number typed by
    /// mistake must not rewrite someone else's thread.
    pub async fn record_web_inquiry(
        &self,
        inquiry: &NewInquiry,
        at: Timestamp,
    ) -> StoreResult<WebContact> {
        let phone = inquiry.phone.as_ref().map(|p| p.as_e164());
        let email = inquiry.email.as_ref().map(|e| e.as_str());
        let addresses: Vec<&str> = phone.into_iter().chain(email).collect();
        let mut tx = self.begin_person(&addresses).await?;
        let (contact, needs_callback) = match open_thread_of(&mut tx, phone, email).await? {
            None => {
                let id = inquiries::insert(&mut tx, inquiry, at, InquiryStatus::New).await?;
                let contact = WebContact {
                    inquiry_id: id,
                    merged: false,
                };
                (contact, true)
            }
            Some(thread) => {
                let id = thread.id;
                fill_contacts(&mut tx, id, phone, email).await?;
                if thread.same_person(&inquiry.name) {
                    sqlx::query(
                        "UPDATE inquiries SET preferred_channel = $1, contact_windows = $2, \
                         time_zone = $3, pain_area = $4, pain_duration = $5, \
                         consent_at = COALESCE(consent_at, $6) WHERE id = $7",
                    )
                    .bind(inquiry.preferred_channel.as_str())
                    .bind(inquiries::windows_text(inquiry))
                    .bind(&inquiry.time_zone)
                    .bind(inquiry.pain_area.as_str())
                    .bind(inquiry.pain_duration.as_str())
                    .bind(inquiry.consent_to_contact.then(|| to_millis(at)))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                let mut body = format!(
                    "Contact form from {}; best times {} ({}); pain: {}, {}.",
                    inquiry.name,
                    inquiries::windows_text(inquiry),
                    inquiry.time_zone,
                    inquiry.pain_area.as_str(),
                    inquiry.pain_duration.as_str(),
                );
                if !inquiry.message.trim().is_empty() {
                    body.push_str("\n\n");
                    body.push_str(inquiry.message.trim());
                }
                let from = phone.or(email).unwrap_or("web form");
                record_web_message(&mut tx, id, from, &body, at).await?;
                let (open_tasks,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM callback_tasks WHERE inquiry_id = $1 AND done_at IS NULL",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                let contact = WebContact {
                    inquiry_id: id,
                    merged: true,
                };
                (contact, open_tasks == 0)
            }
        };
        if needs_callback {
            inquiries::create_callback_task(
                &mut tx,
                contact.inquiry_id,
                CallbackReason::Inquiry,
                phone,
                None,
                at,
            )
            .await?;
        }
        crate::messages::record_form_consent(&mut tx, contact.inquiry_id, inquiry, at).await?;
        tx.commit().await?;
        Ok(contact)
    }
}

/// A person's open thread, as found by one of their addresses.
pub(crate) struct OpenThread {
    pub id: i64,
    pub name: String,
}

impl OpenThread {
    /// Whether `name` is the thread's own, ignoring case and spacing.
    pub fn same_person(&self, name: &str) -> bool {
        let fold = |text: &str| {
            text.split_whitespace()
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
                .join(" ")
        };
        fold(&self.name) == fold(name)
    }
}

/// The person's open thread (any status but closed), the most recent first,
/// found by either address. E-mail addresses match without regard to case:
/// RFC 5321 lets a server tell `Ana@` from `ana@`, but people do not, and
/// no mail service in use does.
pub(crate) async fn open_thread_of(
    conn: &mut sqlx::AnyConnection,
    phone_e164: Option<&str>,
    email: Option<&str>,
) -> StoreResult<Option<OpenThread>> {
    if phone_e164.is_none() && email.is_none() {
        return Ok(None);
    }
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, name FROM inquiries \
         WHERE status <> $1 AND (phone_e164 = $2 OR lower(email) = lower($3)) \
         ORDER BY received_at DESC, id DESC LIMIT 1",
    )
    .bind(InquiryStatus::Closed.as_str())
    .bind(phone_e164)
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(id, name)| OpenThread { id, name }))
}

/// Gives thread `id` a phone number or e-mail address it does not have yet;
/// never replaces one it has.
pub(crate) async fn fill_contacts(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    phone_e164: Option<&str>,
    email: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE inquiries SET phone_e164 = COALESCE(phone_e164, $1), \
         email = COALESCE(email, $2) WHERE id = $3",
    )
    .bind(phone_e164)
    .bind(email)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Keeps a contact made through the public pages as a message of the
/// thread, channel `web`. Its id is the thread's next `web:{inquiry}:{n}`:
/// unique, because the caller holds the person's lock and has written the
/// inquiry's row in this transaction.
pub(crate) async fn record_web_message(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    from: &str,
    body: &str,
    at: Timestamp,
) -> StoreResult<i64> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM messages WHERE inquiry_id = $1 AND channel = 'web'")
            .bind(inquiry_id)
            .fetch_one(&mut *conn)
            .await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO messages (inquiry_id, at, direction, channel, from_address, to_address, \
         body, external_id) VALUES ($1, $2, 'in', 'web', $3, 'web page', $4, $5) RETURNING id",
    )
    .bind(inquiry_id)
    .bind(to_millis(at))
    .bind(from)
    .bind(body)
    .bind(format!("web:{inquiry_id}:{}", count + 1))
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}
