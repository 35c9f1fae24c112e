//! One thread per person (SPEC §1 step 1): the one way every contact —
//! web form, public booking, text, call, e-mail — finds or opens the
//! person's thread, [`join_or_open`].
//!
//! A contact from a phone number (E.164) or an e-mail address that belongs
//! to an open inquiry joins that inquiry; otherwise it opens one. Finding
//! and opening must not race: two first contacts from one person arriving
//! together would open two threads. [`Store::begin_person`] serialises them:
//! on SQLite the write lock is taken before the read, on PostgreSQL a
//! transaction-scoped advisory lock is taken per address.
//!
//! Modules: `messages` and `bookings` use this one; this one uses
//! `inquiries` (the thread's row) and `consents`; none of those uses this.

use jiff::Timestamp;
use respite_domain::inquiry::NewInquiry;
use respite_domain::thread::{same_person, CallbackReason, InquiryStatus};

use crate::{inquiries, to_millis, Engine, Store, StoreResult};

/// What became of a contact from the public web pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebContact {
    pub inquiry_id: i64,
    /// True when it joined the person's open thread instead of opening one.
    pub merged: bool,
}

/// 7274660: this crate's advisory-lock space for person threads.
const PERSON_LOCK_SPACE: i32 = 7274660;

/// A contact's phone number (E.164) and e-mail address, as text.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Addresses<'a> {
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
}

impl<'a> Addresses<'a> {
    pub fn of(inquiry: &'a NewInquiry) -> Addresses<'a> {
        Addresses {
            phone: inquiry.phone.as_ref().map(|p| p.as_e164()),
            email: inquiry.email.as_ref().map(|e| e.as_str()),
        }
    }

    pub fn list(&self) -> Vec<&'a str> {
        self.phone.into_iter().chain(self.email).collect()
    }
}

/// The thread a contact joined or opened.
#[derive(Clone, Debug)]
pub(crate) struct Thread {
    pub id: i64,
    /// The thread's name (the opening contact's, when it was just opened).
    pub name: String,
    /// True when the contact opened it.
    pub opened: bool,
}

impl Thread {
    /// Whether `name` is the thread's own person (the domain's rule).
    pub fn same_person(&self, name: &str) -> bool {
        same_person(&self.name, name)
    }
}

/// Finds the person's open thread by `find`'s addresses or, when there is
/// none, opens one from `opening` with `status`. A thread that is joined
/// gets the addresses of `brings` it lacks. Run it in a transaction from
/// [`Store::begin_person`] over every address of `find`.
pub(crate) async fn join_or_open(
    conn: &mut sqlx::AnyConnection,
    find: Addresses<'_>,
    brings: Addresses<'_>,
    opening: &NewInquiry,
    status: InquiryStatus,
    at: Timestamp,
) -> StoreResult<Thread> {
    match open_thread_of(conn, find).await? {
        Some((id, name)) => {
            inquiries::lock(conn, id).await?;
            inquiries::fill_missing_contacts(conn, id, brings.phone, brings.email).await?;
            Ok(Thread {
                id,
                name,
                opened: false,
            })
        }
        None => {
            let id = inquiries::insert(conn, opening, at, status).await?;
            Ok(Thread {
                id,
                name: opening.name.clone(),
                opened: true,
            })
        }
    }
}

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
    /// e-mail address belongs to an open thread, the form joins it: it is
    /// kept as a message of the thread (`repeat_note`, the words the web
    /// layer wrote for it), and the thread gets a callback task unless one
    /// is open. Only when the form gives the thread's own name does it also
    /// take the latest details (best times, time zone, pain): a number typed
    /// by mistake must not rewrite someone else's thread.
    pub async fn record_web_inquiry(
        &self,
        inquiry: &NewInquiry,
        at: Timestamp,
        repeat_note: &str,
    ) -> StoreResult<WebContact> {
        let addresses = Addresses::of(inquiry);
        let mut tx = self.begin_person(&addresses.list()).await?;
        let thread = join_or_open(
            &mut tx,
            addresses,
            addresses,
            inquiry,
            InquiryStatus::New,
            at,
        )
        .await?;
        let needs_callback = if thread.opened {
            true
        } else {
            if thread.same_person(&inquiry.name) {
                inquiries::update_details(&mut tx, thread.id, inquiry, at).await?;
            }
            let from = addresses.phone.or(addresses.email).unwrap_or("web form");
            record_web_message(&mut tx, thread.id, from, repeat_note, at).await?;
            !inquiries::has_open_callback(&mut tx, thread.id).await?
        };
        if needs_callback {
            inquiries::create_callback_task(
                &mut tx,
                thread.id,
                CallbackReason::Inquiry,
                addresses.phone,
                None,
                at,
            )
            .await?;
        }
        crate::consents::record_form_consent(&mut tx, thread.id, inquiry, at).await?;
        tx.commit().await?;
        Ok(WebContact {
            inquiry_id: thread.id,
            merged: !thread.opened,
        })
    }
}

/// The person's open thread (any status but closed), the most recent first,
/// found by either address: its id and name. E-mail addresses match without
/// regard to case: RFC 5321 lets a server tell `Ana@` from `ana@`, but
/// people do not, and no mail service in use does.
async fn open_thread_of(
    conn: &mut sqlx::AnyConnection,
    find: Addresses<'_>,
) -> StoreResult<Option<(i64, String)>> {
    if find.phone.is_none() && find.email.is_none() {
        return Ok(None);
    }
    Ok(sqlx::query_as(
        "SELECT id, name FROM inquiries \
         WHERE status <> $1 AND (phone_e164 = $2 OR lower(email) = lower($3)) \
         ORDER BY received_at DESC, id DESC LIMIT 1",
    )
    .bind(InquiryStatus::Closed.as_str())
    .bind(find.phone)
    .bind(find.email)
    .fetch_optional(&mut *conn)
    .await?)
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
