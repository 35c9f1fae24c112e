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
use respite_domain::booking::{ConsultationEventKind, ConsultationStatus, NewBooking, Slot};
use respite_domain::inquiry::{Channel, NewInquiry, PreferredChannel};

use respite_domain::thread::{CallbackReason, InquiryStatus};

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
    /// The person books again from the link of a cancelled consultation:
    /// the same thread, capped like a public booking.
    Again {
        inquiry_id: i64,
        source_address: &'a str,
        per_source_per_day: i64,
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
    /// The iCalendar SEQUENCE of its event: raised by each move and by the
    /// cancellation (RFC 5545 §3.8.7.4).
    pub sequence: i64,
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
    sequence: i64,
}

const COLUMNS: &str = "c.id, c.inquiry_id, c.staff_user_id, s.display_name AS staff_name, \
     c.starts_at, c.minutes, c.status, c.time_zone, i.name, i.phone_e164, i.email, c.sequence";
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
        sequence: row.sequence,
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
            Booker::Staff { .. } | Booker::Again { .. } => Addresses::default(),
        };
        // The source is locked like an address, so that its daily count is
        // read and written by one booking at a time.
        let source_lock = match booker {
            Booker::Public { source_address, .. } | Booker::Again { source_address, .. } => {
                Some(format!("source:{source_address}"))
            }
            Booker::Staff { .. } => None,
        };
        let mut locks = addresses.list();
        locks.extend(source_lock.as_deref());
        let mut tx = self.begin_person(&locks).await?;
        let (inquiry_id, booked_by, source, by) = match booker {
            Booker::Public {
                joined_note,
                source_address,
                per_source_per_day,
            } => {
                check_source(&mut tx, source_address, per_source_per_day, at).await?;
                let id = public_thread(&mut tx, booking, addresses, joined_note, at).await?;
                check_no_open_booking(&mut tx, addresses, at).await?;
                (id, "public", Some(source_address), ChangedBy::Person)
            }
            Booker::Again {
                inquiry_id,
                source_address,
                per_source_per_day,
            } => {
                check_source(&mut tx, source_address, per_source_per_day, at).await?;
                inquiries::lock(&mut tx, inquiry_id).await?;
                if has_booked(&mut tx, inquiry_id).await? {
                    let starts_at = next_booked(&mut tx, inquiry_id).await?;
                    return Err(StoreError::AlreadyBooked {
                        kind: AddressKind::Phone,
                        starts_at,
                    });
                }
                if !inquiries::mark_booked(&mut tx, inquiry_id).await? {
                    return Err(StoreError::InquiryClosed);
                }
                inquiries::finish_callbacks(&mut tx, inquiry_id, at).await?;
                (
                    inquiry_id,
                    "public",
                    Some(source_address),
                    ChangedBy::Person,
                )
            }
            Booker::Staff {
                inquiry_id,
                staff_email,
            } => {
                if !inquiries::mark_booked(&mut tx, inquiry_id).await? {
                    return Err(StoreError::InquiryClosed);
                }
                // Booked means the call back is done: the call happens then.
                inquiries::finish_callbacks(&mut tx, inquiry_id, at).await?;
                let (staff_user_id,): (i64,) =
                    sqlx::query_as("SELECT id FROM staff_users WHERE email = $1")
                        .bind(staff_email)
                        .fetch_one(&mut *tx)
                        .await?;
                let by = ChangedBy::Staff {
                    staff_user_id,
                    reason: "",
                };
                (inquiry_id, staff_email, None, by)
            }
        };
        let id = insert_consultation(&mut tx, booking, inquiry_id, booked_by, source, at).await?;
        let event = NewEvent {
            kind: ConsultationEventKind::Booked,
            previous_starts_at: None,
            starts_at: booking.slot.starts_at,
            reason: "",
        };
        record_event(&mut tx, inquiry_id, id, by, &event, at).await?;
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

    /// Cancels a booked consultation, with the jobs that tell the person
    /// (enqueued in the same transaction); false if it is not booked.
    /// In the same transaction: the event in the person's thread (who, and
    /// staff's reason), the iCalendar sequence raised (the cancelled `.ics`
    /// supersedes the booked one), and the follow-up (see
    /// [`follow_up`]): the thread waits for a call to find a new time.
    pub async fn cancel_consultation(
        &self,
        id: i64,
        by: ChangedBy<'_>,
        at: Timestamp,
        jobs: &[crate::NewJob],
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let Some(current) = booked(&mut tx, id).await? else {
            return Ok(false);
        };
        let done = sqlx::query(
            "UPDATE consultations SET status = 'cancelled', sequence = sequence + 1 \
             WHERE id = $1 AND status = 'booked'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(inquiry_id) = current.inquiry_id {
            let event = NewEvent {
                kind: ConsultationEventKind::Cancelled,
                previous_starts_at: None,
                starts_at: current.starts_at,
                reason: by.reason(),
            };
            record_event(&mut tx, inquiry_id, id, by, &event, at).await?;
            follow_up(
                &mut tx,
                inquiry_id,
                id,
                CallbackReason::CancelledConsultation,
                at,
            )
            .await?;
        }
        for job in jobs {
            crate::jobs::enqueue(&mut tx, job, at).await?;
        }
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(true)
    }

    /// Moves a booked consultation to `slot`. The unique index refuses a
    /// slot someone holds ([`StoreError::SlotTaken`]); false if it is not
    /// booked. The move is an event of the thread (from → to, by whom), and
    /// raises the iCalendar sequence.
    pub async fn reschedule_consultation(
        &self,
        id: i64,
        slot: Slot,
        by: ChangedBy<'_>,
        at: Timestamp,
        jobs: &[crate::NewJob],
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let Some(current) = booked(&mut tx, id).await? else {
            return Ok(false);
        };
        // The start read above is the one moved: a concurrent move of the
        // same consultation makes this one find nothing to do.
        let done = sqlx::query(
            "UPDATE consultations SET staff_user_id = $1, starts_at = $2, sequence = sequence + 1 \
             WHERE id = $3 AND status = 'booked' AND starts_at = $4",
        )
        .bind(slot.staff_user_id)
        .bind(to_millis(slot.starts_at))
        .bind(id)
        .bind(to_millis(current.starts_at))
        .execute(&mut *tx)
        .await;
        match done {
            Ok(done) if done.rows_affected() == 1 => {}
            Ok(_) => return Ok(false),
            Err(err) if is_unique_violation(&err) => return Err(StoreError::SlotTaken),
            Err(err) => return Err(err.into()),
        }
        if let Some(inquiry_id) = current.inquiry_id {
            let event = NewEvent {
                kind: ConsultationEventKind::Moved,
                previous_starts_at: Some(current.starts_at),
                starts_at: slot.starts_at,
                reason: "",
            };
            record_event(&mut tx, inquiry_id, id, by, &event, at).await?;
        }
        // Reminders of the old time find it moved and finish unsent.
        for job in jobs {
            crate::jobs::enqueue(&mut tx, job, at).await?;
        }
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(true)
    }

    /// Marks a booked consultation that has started as a no-show; false if
    /// it is not booked or has not started by `now`. The person is not
    /// lost: the thread waits for a call back ([`follow_up`]).
    pub async fn mark_no_show(
        &self,
        id: i64,
        staff_user_id: i64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.close_consultation(id, staff_user_id, ConsultationEventKind::NoShow, now, now)
            .await
    }

    /// Marks a booked consultation held: the call took place. Allowed from
    /// one slot before its start (a call may begin a little early); false
    /// otherwise or if it is not booked. The person was reached, so the
    /// thread is "contacted"; the consultation note comes next.
    pub async fn mark_held(
        &self,
        id: i64,
        staff_user_id: i64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let early = now + jiff::SignedDuration::from_mins(respite_domain::booking::SLOT_MINUTES);
        self.close_consultation(id, staff_user_id, ConsultationEventKind::Held, early, now)
            .await
    }

    /// Ends a booked consultation that starts at or before `started_by` as
    /// held or no-show, with its event and what follows in the thread.
    async fn close_consultation(
        &self,
        id: i64,
        staff_user_id: i64,
        kind: ConsultationEventKind,
        started_by: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let status = match kind {
            ConsultationEventKind::Held => ConsultationStatus::Held,
            _ => ConsultationStatus::NoShow,
        };
        let mut tx = self.begin_write().await?;
        let Some(current) = booked(&mut tx, id).await? else {
            return Ok(false);
        };
        let done = sqlx::query(
            "UPDATE consultations SET status = $1 \
             WHERE id = $2 AND status = 'booked' AND starts_at <= $3",
        )
        .bind(status.as_str())
        .bind(id)
        .bind(to_millis(started_by))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(inquiry_id) = current.inquiry_id {
            let event = NewEvent {
                kind,
                previous_starts_at: None,
                starts_at: current.starts_at,
                reason: "",
            };
            let by = ChangedBy::Staff {
                staff_user_id,
                reason: "",
            };
            record_event(&mut tx, inquiry_id, id, by, &event, now).await?;
            if kind == ConsultationEventKind::Held {
                if inquiries::status_of(&mut tx, inquiry_id).await?
                    == InquiryStatus::ConsultationBooked
                    && !has_booked(&mut tx, inquiry_id).await?
                {
                    inquiries::mark_contacted(&mut tx, inquiry_id).await?;
                }
            } else {
                follow_up(
                    &mut tx,
                    inquiry_id,
                    id,
                    CallbackReason::MissedConsultation,
                    now,
                )
                .await?;
            }
        }
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(true)
    }

    /// The events of every consultation of a thread, in order.
    pub async fn consultation_events(
        &self,
        inquiry_id: i64,
    ) -> StoreResult<Vec<ConsultationEventRecord>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT e.id, e.consultation_id, e.at, e.kind, s.display_name AS staff_name, \
                    e.previous_starts_at, e.starts_at, e.reason \
             FROM consultation_events e LEFT JOIN staff_users s ON s.id = e.staff_user_id \
             WHERE e.inquiry_id = $1 ORDER BY e.at, e.id",
        )
        .bind(inquiry_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EventRow::parse).collect()
    }

    /// One page of the consultation list, earliest first: those starting in
    /// `[filter.from, filter.to)`, of one staff member if named, after the
    /// page's last row (keyset pagination on start and id, so that a booking
    /// made while someone pages neither repeats nor hides a row).
    pub async fn consultations_page(
        &self,
        filter: &ConsultationFilter,
    ) -> StoreResult<Vec<ConsultationRecord>> {
        let (after_start, after_id) = match filter.after {
            Some((at, id)) => (to_millis(at), id),
            None => (i64::MIN, i64::MIN),
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} \
             WHERE c.starts_at >= $1 AND c.starts_at < $2 \
             AND ($3 = 0 OR c.staff_user_id = $3) \
             AND (c.starts_at > $4 OR (c.starts_at = $4 AND c.id > $5)) \
             ORDER BY c.starts_at, c.id LIMIT $6"
        );
        let rows: Vec<ConsultationRow> = sqlx::query_as(&sql)
            .bind(to_millis(filter.from))
            .bind(to_millis(filter.to))
            .bind(filter.staff_user_id.unwrap_or(0))
            .bind(after_start)
            .bind(after_id)
            .bind(filter.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(from_row).collect()
    }
}

/// Which consultations a page of the list shows.
#[derive(Clone, Copy, Debug)]
pub struct ConsultationFilter {
    pub from: Timestamp,
    pub to: Timestamp,
    /// One staff member's consultations; `None`: everyone's.
    pub staff_user_id: Option<i64>,
    /// The start and id of the last row of the previous page.
    pub after: Option<(Timestamp, i64)>,
    pub limit: i64,
}

/// Who changed a consultation: the person, by the link of their
/// confirmation, or a staff member (with their reason, for a cancellation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangedBy<'a> {
    Person,
    Staff { staff_user_id: i64, reason: &'a str },
}

impl<'a> ChangedBy<'a> {
    fn reason(self) -> &'a str {
        match self {
            ChangedBy::Person => "",
            ChangedBy::Staff { reason, .. } => reason,
        }
    }

    fn staff_user_id(self) -> Option<i64> {
        match self {
            ChangedBy::Person => None,
            ChangedBy::Staff { staff_user_id, .. } => Some(staff_user_id),
        }
    }
}

/// One event of a consultation, as the thread shows it.
#[derive(Clone, Debug)]
pub struct ConsultationEventRecord {
    pub id: i64,
    pub consultation_id: i64,
    pub at: Timestamp,
    pub kind: ConsultationEventKind,
    /// The staff member who did it; `None`: the person, by their link.
    pub staff_name: Option<String>,
    /// A move's earlier start.
    pub previous_starts_at: Option<Timestamp>,
    /// The consultation's start (a move's new start).
    pub starts_at: Timestamp,
    /// Staff's reason for a cancellation; empty otherwise.
    pub reason: String,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    consultation_id: i64,
    at: i64,
    kind: String,
    staff_name: Option<String>,
    previous_starts_at: Option<i64>,
    starts_at: i64,
    reason: String,
}

impl EventRow {
    fn parse(self) -> StoreResult<ConsultationEventRecord> {
        Ok(ConsultationEventRecord {
            id: self.id,
            consultation_id: self.consultation_id,
            at: from_millis(self.at)?,
            kind: ConsultationEventKind::parse(&self.kind).ok_or_else(|| {
                StoreError::Corrupt(format!("consultation event `{}`", self.kind))
            })?,
            staff_name: self.staff_name,
            previous_starts_at: self.previous_starts_at.map(from_millis).transpose()?,
            starts_at: from_millis(self.starts_at)?,
            reason: self.reason,
        })
    }
}

struct NewEvent<'a> {
    kind: ConsultationEventKind,
    previous_starts_at: Option<Timestamp>,
    starts_at: Timestamp,
    reason: &'a str,
}

/// The thread and start of a consultation that is booked, read in the
/// writer's transaction; `None` when it is not booked or does not exist.
struct Booked {
    inquiry_id: Option<i64>,
    starts_at: Timestamp,
}

async fn booked(conn: &mut sqlx::AnyConnection, id: i64) -> StoreResult<Option<Booked>> {
    let row: Option<(Option<i64>, i64)> = sqlx::query_as(
        "SELECT inquiry_id, starts_at FROM consultations WHERE id = $1 AND status = 'booked'",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((inquiry_id, starts_at)) = row else {
        return Ok(None);
    };
    if let Some(inquiry_id) = inquiry_id {
        // The thread's row lock (PostgreSQL), so that its status and tasks
        // change one writer at a time.
        inquiries::lock(conn, inquiry_id).await?;
    }
    Ok(Some(Booked {
        inquiry_id,
        starts_at: from_millis(starts_at)?,
    }))
}

async fn record_event(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    consultation_id: i64,
    by: ChangedBy<'_>,
    event: &NewEvent<'_>,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO consultation_events (inquiry_id, consultation_id, at, kind, staff_user_id, \
         previous_starts_at, starts_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(inquiry_id)
    .bind(consultation_id)
    .bind(to_millis(at))
    .bind(event.kind.as_str())
    .bind(by.staff_user_id())
    .bind(event.previous_starts_at.map(to_millis))
    .bind(to_millis(event.starts_at))
    .bind(event.reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The start of the thread's earliest booked consultation.
async fn next_booked(conn: &mut sqlx::AnyConnection, inquiry_id: i64) -> StoreResult<Timestamp> {
    let (at,): (i64,) = sqlx::query_as(
        "SELECT MIN(starts_at) FROM consultations WHERE inquiry_id = $1 AND status = 'booked'",
    )
    .bind(inquiry_id)
    .fetch_one(&mut *conn)
    .await?;
    from_millis(at)
}

/// Whether the thread has a consultation still booked.
async fn has_booked(conn: &mut sqlx::AnyConnection, inquiry_id: i64) -> StoreResult<bool> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM consultations WHERE inquiry_id = $1 AND status = 'booked'",
    )
    .bind(inquiry_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// After a cancelled or missed consultation nobody is lost (SPEC §1 step
/// 2): unless the thread is closed or has another consultation booked, it
/// becomes "contacted" (back in the queue) with a callback task that names
/// the consultation, which the callback page places in the person's
/// best-time windows. Its unanswered calls are counted afresh, up to the
/// clinic's number of tries (`AttemptPolicy`).
async fn follow_up(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    consultation_id: i64,
    reason: CallbackReason,
    at: Timestamp,
) -> StoreResult<()> {
    if inquiries::status_of(conn, inquiry_id).await? == InquiryStatus::Closed
        || has_booked(conn, inquiry_id).await?
    {
        return Ok(());
    }
    inquiries::mark_contacted(conn, inquiry_id).await?;
    // One call back is enough: earlier open tasks are replaced by this one.
    inquiries::finish_callbacks(conn, inquiry_id, at).await?;
    let task = inquiries::create_callback_task(conn, inquiry_id, reason, None, None, at).await?;
    sqlx::query(
        "UPDATE callback_tasks SET consultation_id = $1, \
         phone_e164 = (SELECT phone_e164 FROM inquiries WHERE id = $2) WHERE id = $3",
    )
    .bind(consultation_id)
    .bind(inquiry_id)
    .bind(task)
    .execute(&mut *conn)
    .await?;
    Ok(())
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
        // Nobody asked yet: unknown, not "other, not sure".
        pain_area: None,
        pain_duration: None,
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
