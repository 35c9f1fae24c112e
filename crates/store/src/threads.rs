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

use respite_domain::consent;
use respite_domain::thread::ContactAddress;
use respite_domain::{Email, PhoneNumber};

use crate::inquiries::AddressKind;
use crate::{from_millis, inquiries, to_millis, Engine, Store, StoreError, StoreResult};

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
/// none, opens one from `opening` with `status`. Contact details from the
/// public ways in are not authenticated, so a thread that is joined keeps
/// its addresses: an address of `brings` that is not the thread's is kept
/// as *unverified* (`came_by` names the way in), shown to staff and used
/// for nothing until staff confirm it with the person
/// ([`Store::verify_contact`]). Run it in a transaction from
/// [`Store::begin_person`] over every address of `find`.
pub(crate) async fn join_or_open(
    conn: &mut sqlx::AnyConnection,
    find: Addresses<'_>,
    brings: Addresses<'_>,
    came_by: &str,
    opening: &NewInquiry,
    status: InquiryStatus,
    at: Timestamp,
) -> StoreResult<Thread> {
    let Some(found) = open_thread_of(conn, find).await? else {
        return open_thread(conn, find, opening, came_by, status, at).await;
    };
    inquiries::lock(conn, found.id).await?;
    let new_phone = brings
        .phone
        .filter(|phone| found.phone_e164.as_deref() != Some(*phone));
    let new_email = brings.email.filter(|email| {
        !found
            .email
            .as_deref()
            .is_some_and(|own| own.eq_ignore_ascii_case(email))
    });
    for (kind, address) in [
        (AddressKind::Phone, new_phone),
        (AddressKind::Email, new_email),
    ] {
        if let Some(address) = address {
            keep_unverified(conn, found.id, kind, address, came_by, at).await?;
        }
    }
    Ok(Thread {
        id: found.id,
        name: found.name,
        opened: false,
    })
}

/// Opens a thread from `opening`. A phone number the contact only mentions
/// (not one it was found by, e.g. a number written in an e-mail) that is
/// another open thread's stays unverified: it would otherwise draw that
/// person's next texts and calls into this thread.
async fn open_thread(
    conn: &mut sqlx::AnyConnection,
    find: Addresses<'_>,
    opening: &NewInquiry,
    came_by: &str,
    status: InquiryStatus,
    at: Timestamp,
) -> StoreResult<Thread> {
    let mentioned = opening
        .phone
        .as_ref()
        .map(|p| p.as_e164())
        .filter(|phone| find.phone != Some(*phone));
    let claimed = match mentioned {
        Some(phone) => {
            let by_phone = Addresses {
                phone: Some(phone),
                email: None,
            };
            open_thread_of(conn, by_phone).await?.is_some()
        }
        None => false,
    };
    let id = if claimed {
        let mut own = opening.clone();
        own.phone = None;
        inquiries::insert(conn, &own, at, status).await?
    } else {
        inquiries::insert(conn, opening, at, status).await?
    };
    if let (true, Some(phone)) = (claimed, mentioned) {
        keep_unverified(conn, id, AddressKind::Phone, phone, came_by, at).await?;
    }
    Ok(Thread {
        id,
        name: opening.name.clone(),
        opened: true,
    })
}

/// An address a contact brought to an existing thread, not yet confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnverifiedContact {
    pub id: i64,
    pub inquiry_id: i64,
    pub kind: AddressKind,
    pub address: String,
    /// The way in that brought it: web, booking, sms, voice, email.
    pub came_by: String,
    pub received_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct UnverifiedRow {
    id: i64,
    inquiry_id: i64,
    kind: String,
    address: String,
    came_by: String,
    received_at: i64,
}

impl UnverifiedRow {
    fn parse(self) -> StoreResult<UnverifiedContact> {
        Ok(UnverifiedContact {
            id: self.id,
            inquiry_id: self.inquiry_id,
            kind: AddressKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("address kind `{}`", self.kind)))?,
            address: self.address,
            came_by: self.came_by,
            received_at: from_millis(self.received_at)?,
        })
    }
}

/// What staff verification did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedContact {
    pub inquiry_id: i64,
    pub kind: AddressKind,
    pub address: String,
}

async fn keep_unverified(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    kind: AddressKind,
    address: &str,
    came_by: &str,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO unverified_contacts (inquiry_id, kind, address, came_by, received_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (inquiry_id, kind, address) DO NOTHING",
    )
    .bind(inquiry_id)
    .bind(kind.as_str())
    .bind(address)
    .bind(came_by)
    .bind(to_millis(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
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
            "web",
            inquiry,
            InquiryStatus::New,
            at,
        )
        .await?;
        let needs_callback = if thread.opened {
            true
        } else {
            if thread.same_person(&inquiry.name) {
                inquiries::update_details(&mut tx, thread.id, inquiry).await?;
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
        if thread.opened {
            // A form that joins a thread changes no consent (see
            // `respite_domain::consent`).
            crate::consents::record_form_consent(&mut tx, thread.id, inquiry, at).await?;
        }
        self.commit(tx, Some(&thread.id.to_string())).await?;
        Ok(WebContact {
            inquiry_id: thread.id,
            merged: !thread.opened,
        })
    }
}

impl Store {
    /// The addresses contacts brought to thread `inquiry_id` that staff
    /// have not confirmed, oldest first.
    pub async fn unverified_contacts(
        &self,
        inquiry_id: i64,
    ) -> StoreResult<Vec<UnverifiedContact>> {
        let rows: Vec<UnverifiedRow> = sqlx::query_as(
            "SELECT id, inquiry_id, kind, address, came_by, received_at \
             FROM unverified_contacts WHERE inquiry_id = $1 AND verified_at IS NULL \
             ORDER BY received_at, id",
        )
        .bind(inquiry_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(UnverifiedRow::parse).collect()
    }

    /// Staff confirmed unverified address `contact_id` of thread
    /// `inquiry_id` with the person on a call: in one transaction it is
    /// marked verified (by whom, when), becomes the thread's phone number or
    /// e-mail address, and consent for it is recorded with the source
    /// `staff-verified`. `Ok(None)` when the thread has no such unverified
    /// address.
    pub async fn verify_contact(
        &self,
        inquiry_id: i64,
        contact_id: i64,
        staff_user_id: i64,
        at: Timestamp,
    ) -> StoreResult<Option<VerifiedContact>> {
        let mut tx = self.begin_write().await?;
        // A concurrent verification of the same row finds it verified.
        let claimed: Option<UnverifiedRow> = sqlx::query_as(
            "UPDATE unverified_contacts SET verified_at = $1, verified_by = $2 \
             WHERE id = $3 AND inquiry_id = $4 AND verified_at IS NULL \
             RETURNING id, inquiry_id, kind, address, came_by, received_at",
        )
        .bind(to_millis(at))
        .bind(staff_user_id)
        .bind(contact_id)
        .bind(inquiry_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(contact) = claimed.map(UnverifiedRow::parse).transpose()? else {
            tx.rollback().await?;
            return Ok(None);
        };
        inquiries::set_address(&mut tx, inquiry_id, contact.kind, &contact.address).await?;
        let address = match contact.kind {
            AddressKind::Phone => PhoneNumber::from_e164(&contact.address)
                .ok()
                .map(ContactAddress::Phone),
            AddressKind::Email => Email::parse(&contact.address)
                .ok()
                .map(ContactAddress::Email),
        }
        .ok_or_else(|| StoreError::Corrupt(format!("unverified {}", contact.kind.as_str())))?;
        for channel in consent::verified_grants(&address) {
            crate::consents::insert(
                &mut tx,
                Some(inquiry_id),
                address.as_str(),
                channel,
                true,
                at,
                consent::STAFF_VERIFIED,
            )
            .await?;
        }
        self.commit(tx, None).await?;
        Ok(Some(VerifiedContact {
            inquiry_id,
            kind: contact.kind,
            address: contact.address,
        }))
    }
}

#[derive(sqlx::FromRow)]
struct FoundThread {
    id: i64,
    name: String,
    phone_e164: Option<String>,
    email: Option<String>,
}

/// The person's open thread (any status but closed), the most recent first,
/// found by either address: its id and name. E-mail addresses match without
/// regard to case: RFC 5321 lets a server tell `Ana@` from `ana@`, but
/// people do not, and no mail service in use does.
async fn open_thread_of(
    conn: &mut sqlx::AnyConnection,
    find: Addresses<'_>,
) -> StoreResult<Option<FoundThread>> {
    if find.phone.is_none() && find.email.is_none() {
        return Ok(None);
    }
    Ok(sqlx::query_as(
        "SELECT id, name, phone_e164, email FROM inquiries \
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
