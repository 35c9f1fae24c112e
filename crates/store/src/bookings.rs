//! Booking the free 15-minute phone consultation (SPEC §1 step 2): the
//! consultations themselves. Which slots exist is decided by
//! `respite_domain::booking` from the schedule (`schedule.rs` owns those
//! tables); whether one is free is decided here, by the database: a unique
//! index over (staff member, start) of every consultation that is not
//! cancelled makes a double booking impossible, whatever the number of
//! servers or concurrent requests. A public booking finds or opens the
//! person's thread through `threads::join_or_open`, and is capped: one open
//! consultation per phone number and per e-mail address, and a clinic-set
//! number of public bookings per source address a day.

use jiff::Timestamp;
use respite_domain::booking::{ConsultationStatus, NewBooking, Slot};
use respite_domain::inquiry::{Channel, NewInquiry, PainArea, PainDuration, PreferredChannel};

use respite_domain::thread::InquiryStatus;

use crate::inquiries::AddressKind;
use crate::threads::{join_or_open, record_web_message, Addresses};
use crate::{
    from_millis, inquiries, is_unique_violation, to_millis, Store, StoreError, StoreResult,
};

/// Who books: the person from the public page (their open thread is joined,
/// or a new one opened), or a staff member for an existing inquiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Booker<'a> {
    Public {
        /// The thread's message when the booking joins an open thread,
        /// written by the web layer.
        joined_note: &'a str,
        /// Where the booking came from (the client's IP address).
        source_address: &'a str,
        /// How many public bookings one source may make in 24 hours.
        per_source_per_day: i64,
    },
    Staff {
        inquiry_id: i64,
        staff_email: &'a str,
    },
}

/// A consultation with what its pages need.
#[derive(Clone, Debug)]
pub struct ConsultationRecord {
    pub id: i64,
    pub inquiry_id: Option<i64>,
    pub staff_user_id: i64,
    pub staff_name: String,
    pub starts_at: Timestamp,
    pub minutes: i64,
    pub status: ConsultationStatus,
    pub time_zone: String,
    pub name: String,
    pub phone_e164: Option<String>,
    pub email: Option<String>,
}

impl ConsultationRecord {
    pub fn slot(&self) -> Slot {
        Slot {
            starts_at: self.starts_at,
            staff_user_id: self.staff_user_id,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ConsultationRow {
    id: i64,
    inquiry_id: Option<i64>,
    staff_user_id: i64,
    staff_name: String,
    starts_at: i64,
    minutes: i64,
    status: String,
    time_zone: String,
    name: Option<String>,
    phone_e164: Option<String>,
    email: Option<String>,
}

const COLUMNS: &str = "c.id, c.inquiry_id, c.staff_user_id, s.display_name AS staff_name, \
     c.starts_at, c.minutes, c.status, c.time_zone, i.name, i.phone_e164, i.email";
const FROM: &str = "consultations c JOIN staff_users s ON s.id = c.staff_user_id \
     LEFT JOIN inquiries i ON i.id = c.inquiry_id";

fn from_row(row: ConsultationRow) -> StoreResult<ConsultationRecord> {
    Ok(ConsultationRecord {
        id: row.id,
        inquiry_id: row.inquiry_id,
        staff_user_id: row.staff_user_id,
        staff_name: row.staff_name,
        starts_at: from_millis(row.starts_at)?,
        minutes: row.minutes,
        status: ConsultationStatus::parse(&row.status)
            .ok_or_else(|| StoreError::Corrupt(format!("consultation status `{}`", row.status)))?,
        time_zone: row.time_zone,
        name: row.name.unwrap_or_default(),
        phone_e164: row.phone_e164,
        email: row.email,
    })
}

impl Store {
    /// How many consultations are booked (not cancelled, not yet held)
    /// starting in `[from, to)`: the schedule page names them when a change
    /// touches their day, since they stay booked.
    pub async fn booked_consultations_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<i64> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM consultations \
             WHERE status = 'booked' AND starts_at >= $1 AND starts_at < $2",
        )
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }

    /// Slots held by a consultation that is not cancelled, starting in
    /// `[from, to)`.
    pub async fn taken_slots(&self, from: Timestamp, to: Timestamp) -> StoreResult<Vec<Slot>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT staff_user_id, starts_at FROM consultations \
             WHERE status <> 'cancelled' AND starts_at >= $1 AND starts_at < $2",
        )
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(staff_user_id, starts)| {
                Ok(Slot {
                    staff_user_id,
                    starts_at: from_millis(starts)?,
                })
            })
            .collect()
    }

    /// Books `booking`'s slot, in one transaction with its thread: from the
    /// public page the person's open thread (found by phone or e-mail) or
    /// else a new inquiry, with status consultation booked and the consent
    /// given on the form; for staff, the inquiry moves to consultation
    /// booked. A slot that is already held is refused with
    /// [`StoreError::SlotTaken`] and nothing is written.
    pub async fn book_consultation(
        &self,
        booking: &NewBooking,
        booker: Booker<'_>,
        at: Timestamp,
        jobs: impl Fn(i64) -> Vec<crate::NewJob>,
    ) -> StoreResult<i64> {
        // From the public page the person's thread is found or opened, so
        // the transaction is serialised per person like every other contact.
        let addresses = match booker {
            Booker::Public { .. } => Addresses {
                phone: booking.phone.as_ref().map(|p| p.as_e164()),
                email: booking.email.as_ref().map(|e| e.as_str()),
            },
            Booker::Staff { .. } => Addresses::default(),
        };
        // The source is locked like an address, so that its daily count is
        // read and written by one booking at a time.
        let source_lock = match booker {
            Booker::Public { source_address, .. } => Some(format!("source:{source_address}")),
            Booker::Staff { .. } => None,
        };
        let mut locks = addresses.list();
        locks.extend(source_lock.as_deref());
        let mut tx = self.begin_person(&locks).await?;
        let (inquiry_id, booked_by, source) = match booker {
            Booker::Public {
                joined_note,
                source_address,
                per_source_per_day,
            } => {
                check_source(&mut tx, source_address, per_source_per_day, at).await?;
                let id = public_thread(&mut tx, booking, addresses, joined_note, at).await?;
                check_no_open_booking(&mut tx, addresses, at).await?;
                (id, "public", Some(source_address))
            }
            Booker::Staff {
                inquiry_id,
                staff_email,
            } => {
                if !inquiries::mark_booked(&mut tx, inquiry_id).await? {
                    return Err(StoreError::InquiryClosed);
                }
                (inquiry_id, staff_email, None)
            }
        };
        let id = insert_consultation(&mut tx, booking, inquiry_id, booked_by, source, at).await?;
        // Its texts are enqueued with it: booked means reminded.
        for job in jobs(id) {
            crate::jobs::enqueue(&mut tx, &job, at).await?;
        }
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(id)
    }

    pub async fn consultation(&self, id: i64) -> StoreResult<Option<ConsultationRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE c.id = $1");
        let row: Option<ConsultationRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(from_row).transpose()
    }

    /// Consultations starting at or after `from`, earliest first.
    pub async fn consultations_from(
        &self,
        from: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<ConsultationRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE c.starts_at >= $1 ORDER BY c.starts_at, c.id LIMIT $2"
        );
        let rows: Vec<ConsultationRow> = sqlx::query_as(&sql)
            .bind(to_millis(from))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(from_row).collect()
    }

    pub async fn consultations_of_inquiry(
        &self,
        inquiry_id: i64,
    ) -> StoreResult<Vec<ConsultationRecord>> {
        let sql =
            format!("SELECT {COLUMNS} FROM {FROM} WHERE c.inquiry_id = $1 ORDER BY c.starts_at");
        let rows: Vec<ConsultationRow> = sqlx::query_as(&sql)
            .bind(inquiry_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(from_row).collect()
    }

    /// Cancels a booked consultation; false if it is not booked (already
    /// cancelled, held, missed) or does not exist.
    /// Cancels a booked consultation, with the jobs that tell the person
    /// (enqueued in the same transaction); false if it is not booked.
    pub async fn cancel_consultation(
        &self,
        id: i64,
        at: Timestamp,
        jobs: &[crate::NewJob],
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE consultations SET status = 'cancelled' WHERE id = $1 AND status = 'booked'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for job in jobs {
            crate::jobs::enqueue(&mut tx, job, at).await?;
        }
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(true)
    }

    /// Moves a booked consultation to `slot`. The unique index refuses a
    /// slot someone holds ([`StoreError::SlotTaken`]); false if it is not booked.
    pub async fn reschedule_consultation(
        &self,
        id: i64,
        slot: Slot,
        at: Timestamp,
        jobs: &[crate::NewJob],
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE consultations SET staff_user_id = $1, starts_at = $2 \
             WHERE id = $3 AND status = 'booked'",
        )
        .bind(slot.staff_user_id)
        .bind(to_millis(slot.starts_at))
        .bind(id)
        .execute(&mut *tx)
        .await;
        match done {
            Ok(done) if done.rows_affected() == 1 => {}
            Ok(_) => return Ok(false),
            Err(err) if is_unique_violation(&err) => return Err(StoreError::SlotTaken),
            Err(err) => return Err(err.into()),
        }
        // Reminders of the old time find it moved and finish unsent.
        for job in jobs {
            crate::jobs::enqueue(&mut tx, job, at).await?;
        }
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(true)
    }

    /// Marks a booked consultation that has started as a no-show; false if
    /// it is not booked or has not started by `now`.
    pub async fn mark_no_show(&self, id: i64, now: Timestamp) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE consultations SET status = 'no-show' \
             WHERE id = $1 AND status = 'booked' AND starts_at <= $2",
        )
        .bind(id)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(true)
    }
}

impl Store {
    /// The secret of `staff_user_id`'s calendar feed; `fresh` is stored if
    /// the user has none yet.
    pub async fn calendar_secret(&self, staff_user_id: i64, fresh: &str) -> StoreResult<String> {
        sqlx::query(
            "UPDATE staff_users SET calendar_secret = $1 WHERE id = $2 AND calendar_secret IS NULL",
        )
        .bind(fresh)
        .bind(staff_user_id)
        .execute(&self.pool)
        .await?;
        let (secret,): (Option<String>,) =
            sqlx::query_as("SELECT calendar_secret FROM staff_users WHERE id = $1")
                .bind(staff_user_id)
                .fetch_one(&self.pool)
                .await?;
        secret.ok_or_else(|| StoreError::Corrupt("calendar secret vanished".into()))
    }

    /// The active staff member whose feed `secret` opens: id and name.
    pub async fn staff_by_calendar_secret(
        &self,
        secret: &str,
    ) -> StoreResult<Option<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, display_name FROM staff_users WHERE calendar_secret = $1 AND active = 1",
        )
        .bind(secret)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A staff member's consultations starting at or after `from`.
    pub async fn consultations_of_staff(
        &self,
        staff_user_id: i64,
        from: Timestamp,
    ) -> StoreResult<Vec<ConsultationRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE c.staff_user_id = $1 AND c.starts_at >= $2 \
             ORDER BY c.starts_at LIMIT 2000"
        );
        let rows: Vec<ConsultationRow> = sqlx::query_as(&sql)
            .bind(staff_user_id)
            .bind(to_millis(from))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(from_row).collect()
    }
}

/// The inquiry a public booking opens when the person has no open thread.
fn booking_inquiry(booking: &NewBooking) -> NewInquiry {
    NewInquiry {
        channel: Channel::Web,
        name: booking.name.clone(),
        phone: booking.phone.clone(),
        email: booking.email.clone(),
        preferred_channel: if booking.phone.is_some() {
            PreferredChannel::Phone
        } else {
            PreferredChannel::Email
        },
        windows: Vec::new(),
        time_zone: booking.time_zone.clone(),
        pain_area: PainArea::Other,
        pain_duration: PainDuration::NotSure,
        message: String::new(),
        consent_to_contact: true,
    }
}

/// The thread of a public booking: the person's open thread, moved to
/// consultation booked (a new address kept unverified), or a new one opened
/// with that status and the consent the form gave.
async fn public_thread(
    conn: &mut sqlx::AnyConnection,
    booking: &NewBooking,
    addresses: Addresses<'_>,
    joined_note: &str,
    at: Timestamp,
) -> StoreResult<i64> {
    let inquiry = booking_inquiry(booking);
    let thread = join_or_open(
        conn,
        addresses,
        addresses,
        "booking",
        &inquiry,
        InquiryStatus::ConsultationBooked,
        at,
    )
    .await?;
    if !thread.opened {
        // The person wrote or called before: the booking joins that thread.
        // When the name is the thread's own, the open callbacks are done
        // (the call now happens at the booked time) and the zone is the
        // booking's; otherwise staff see the name given and decide.
        inquiries::mark_booked(conn, thread.id).await?;
        if thread.same_person(&booking.name) {
            inquiries::set_time_zone(conn, thread.id, &booking.time_zone).await?;
            inquiries::finish_callbacks(conn, thread.id, at).await?;
        }
        let from = addresses.phone.or(addresses.email).unwrap_or("web page");
        record_web_message(conn, thread.id, from, joined_note, at).await?;
    } else {
        // Only a booking that opens the thread gives consent: one that joins
        // a thread changes no consent (see `respite_domain::consent`).
        crate::consents::record_form_consent(conn, thread.id, &inquiry, at).await?;
    }
    Ok(thread.id)
}

/// One source may make `limit` public bookings in 24 hours: one client
/// cannot hoard the clinic's slots.
async fn check_source(
    conn: &mut sqlx::AnyConnection,
    source_address: &str,
    limit: i64,
    at: Timestamp,
) -> StoreResult<()> {
    let since = at - jiff::SignedDuration::from_hours(24);
    let (made,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM consultations WHERE source_address = $1 AND booked_at > $2",
    )
    .bind(source_address)
    .bind(to_millis(since))
    .fetch_one(&mut *conn)
    .await?;
    if made >= limit {
        return Err(StoreError::TooManyBookingsFromSource { limit });
    }
    Ok(())
}

/// One open consultation (booked, not yet begun) per phone number and per
/// e-mail address: the person changes or cancels it with its link. Checked
/// after the thread is joined (its row locked), against the addresses of
/// every open thread.
async fn check_no_open_booking(
    conn: &mut sqlx::AnyConnection,
    addresses: Addresses<'_>,
    at: Timestamp,
) -> StoreResult<()> {
    let open: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT c.starts_at, i.phone_e164 FROM consultations c \
         JOIN inquiries i ON i.id = c.inquiry_id \
         WHERE c.status = 'booked' AND c.starts_at > $1 \
         AND (i.phone_e164 = $2 OR lower(i.email) = lower($3)) \
         ORDER BY c.starts_at LIMIT 1",
    )
    .bind(to_millis(at))
    .bind(addresses.phone)
    .bind(addresses.email)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((starts_at, phone)) = open else {
        return Ok(());
    };
    let kind = if phone.is_some() && phone.as_deref() == addresses.phone {
        AddressKind::Phone
    } else {
        AddressKind::Email
    };
    Err(StoreError::AlreadyBooked {
        kind,
        starts_at: from_millis(starts_at)?,
    })
}

/// Inserts the consultation; the unique index refuses a slot someone holds.
async fn insert_consultation(
    conn: &mut sqlx::AnyConnection,
    booking: &NewBooking,
    inquiry_id: i64,
    booked_by: &str,
    source_address: Option<&str>,
    at: Timestamp,
) -> StoreResult<i64> {
    let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "INSERT INTO consultations (inquiry_id, staff_user_id, starts_at, minutes, status, \
         time_zone, booked_at, booked_by, source_address) \
         VALUES ($1, $2, $3, $4, 'booked', $5, $6, $7, $8) RETURNING id",
    )
    .bind(inquiry_id)
    .bind(booking.slot.staff_user_id)
    .bind(to_millis(booking.slot.starts_at))
    .bind(respite_domain::booking::SLOT_MINUTES)
    .bind(&booking.time_zone)
    .bind(to_millis(at))
    .bind(booked_by)
    .bind(source_address)
    .fetch_one(&mut *conn)
    .await;
    match inserted {
        Ok((id,)) => Ok(id),
        Err(err) if is_unique_violation(&err) => Err(StoreError::SlotTaken),
        Err(err) => Err(err.into()),
    }
}
