//! Booking the free phone consultation (issue 5 item 3): the schedule that
//! slots are made from, and the bookings themselves. Which slots exist is
//! decided by `respite_domain::booking`; whether one is free is decided here,
//! by the database: a unique index over (staff member, start) of every
//! consultation that is not cancelled makes a double booking impossible,
//! whatever the number of servers or concurrent requests.

use jiff::civil::{Date, Time, Weekday};
use jiff::Timestamp;
use respite_domain::booking::{NewBooking, OpeningHours, Schedule, Slot, StaffAvailability};
use respite_domain::inquiry::{Channel, NewInquiry, PainArea, PainDuration, PreferredChannel};

use crate::inquiries::InquiryStatus;
use crate::{from_millis, is_unique_violation, to_millis, Store, StoreError, StoreResult};

/// The message of the conflict when a slot was taken between showing and
/// booking it.
pub const SLOT_TAKEN: &str = "this time was just taken by someone else; please choose another time";

/// Who books: the person from the public page (a new thread is opened), or
/// a staff member for an existing inquiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Booker<'a> {
    Public,
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
    pub status: String,
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

type ConsultationRow = (
    i64,
    Option<i64>,
    i64,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

const COLUMNS: &str = "c.id, c.inquiry_id, c.staff_user_id, s.display_name, c.starts_at, \
     c.minutes, c.status, c.time_zone, i.name, i.phone_e164, i.email";
const FROM: &str = "consultations c JOIN staff_users s ON s.id = c.staff_user_id \
     LEFT JOIN inquiries i ON i.id = c.inquiry_id";

fn from_row(row: ConsultationRow) -> StoreResult<ConsultationRecord> {
    let (
        id,
        inquiry_id,
        staff_user_id,
        staff_name,
        starts,
        minutes,
        status,
        zone,
        name,
        phone,
        email,
    ) = row;
    Ok(ConsultationRecord {
        id,
        inquiry_id,
        staff_user_id,
        staff_name,
        starts_at: from_millis(starts)?,
        minutes,
        status,
        time_zone: zone,
        name: name.unwrap_or_default(),
        phone_e164: phone,
        email,
    })
}

pub(crate) fn weekday_number(weekday: Weekday) -> i64 {
    i64::from(weekday.to_monday_one_offset())
}

pub(crate) fn weekday_from(number: i64) -> StoreResult<Weekday> {
    i8::try_from(number)
        .ok()
        .and_then(|n| Weekday::from_monday_one_offset(n).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("weekday {number}")))
}

pub(crate) fn time_from(text: &str) -> StoreResult<Time> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("time of day `{text}`")))
}

pub(crate) fn hhmm(time: Time) -> String {
    time.strftime("%H:%M").to_string()
}

impl Store {
    /// The clinic's hours, holidays and every active staff member's
    /// availability.
    pub async fn booking_schedule(&self) -> StoreResult<Schedule> {
        let hours: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT weekday, opens, closes FROM clinic_opening_hours ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let holidays: Vec<(String,)> = sqlx::query_as("SELECT day FROM clinic_holidays")
            .fetch_all(&self.pool)
            .await?;
        let availability: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT a.staff_user_id, a.weekday, a.starts, a.ends FROM staff_availability a \
             JOIN staff_users s ON s.id = a.staff_user_id WHERE s.active = 1 ORDER BY a.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut schedule = Schedule::default();
        for (weekday, opens, closes) in hours {
            schedule.opening_hours.push(OpeningHours {
                weekday: weekday_from(weekday)?,
                opens: time_from(&opens)?,
                closes: time_from(&closes)?,
            });
        }
        for (day,) in holidays {
            let date: Date = day
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("holiday `{day}`")))?;
            schedule.holidays.push(date);
        }
        for (staff_user_id, weekday, starts, ends) in availability {
            schedule.availability.push(StaffAvailability {
                staff_user_id,
                weekday: weekday_from(weekday)?,
                starts: time_from(&starts)?,
                ends: time_from(&ends)?,
            });
        }
        Ok(schedule)
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
    /// given on the form; for staff, the inquiry moves to
    /// consultation booked. A slot that is already held is refused with
    /// [`StoreError::Conflict`] on `slot` ([`SLOT_TAKEN`]) and nothing is
    /// written.
    pub async fn book_consultation(
        &self,
        booking: &NewBooking,
        booker: Booker<'_>,
        at: Timestamp,
        jobs: impl Fn(i64) -> Vec<crate::NewJob>,
    ) -> StoreResult<i64> {
        // From the public page the person's thread is found or opened, so
        // the transaction is serialised per person like every other contact.
        let addresses: Vec<&str> = match booker {
            Booker::Public => booking
                .phone
                .as_ref()
                .map(|p| p.as_e164())
                .into_iter()
                .chain(booking.email.as_ref().map(|e| e.as_str()))
                .collect(),
            Booker::Staff { .. } => Vec::new(),
        };
        let mut tx = self.begin_person(&addresses).await?;
        let (inquiry_id, booked_by) = match booker {
            Booker::Public => {
                let inquiry = NewInquiry {
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
                };
                let phone = booking.phone.as_ref().map(|p| p.as_e164());
                let email = booking.email.as_ref().map(|e| e.as_str());
                let id = match crate::threads::open_thread_of(&mut tx, phone, email).await? {
                    None => {
                        crate::inquiries::insert(
                            &mut tx,
                            &inquiry,
                            at,
                            InquiryStatus::ConsultationBooked,
                        )
                        .await?
                    }
                    Some(thread) => {
                        // The person wrote or called before: the booking
                        // joins that thread and fills in a contact it
                        // lacked. When the name is the thread's own, the
                        // open callbacks are done (the call now happens at
                        // the booked time) and the zone is the booking's;
                        // otherwise staff see the name given and decide.
                        let id = thread.id;
                        crate::threads::fill_contacts(&mut tx, id, phone, email).await?;
                        sqlx::query("UPDATE inquiries SET status = $1 WHERE id = $2")
                            .bind(InquiryStatus::ConsultationBooked.as_str())
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        if thread.same_person(&booking.name) {
                            sqlx::query("UPDATE inquiries SET time_zone = $1 WHERE id = $2")
                                .bind(&booking.time_zone)
                                .bind(id)
                                .execute(&mut *tx)
                                .await?;
                            sqlx::query(
                                "UPDATE callback_tasks SET done_at = $1 \
                                 WHERE inquiry_id = $2 AND done_at IS NULL",
                            )
                            .bind(to_millis(at))
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        }
                        let when = jiff::tz::TimeZone::get(&booking.time_zone)
                            .map(|zone| {
                                booking
                                    .slot
                                    .starts_at
                                    .to_zoned(zone)
                                    .strftime("%Y-%m-%d %H:%M %Z")
                                    .to_string()
                            })
                            .unwrap_or_else(|_| booking.slot.starts_at.to_string());
                        let from = phone.or(email).unwrap_or("web page");
                        crate::threads::record_web_message(
                            &mut tx,
                            id,
                            from,
                            &format!(
                                "Booked the free phone consultation for {when} on the public \
                                 page, as {}.",
                                booking.name
                            ),
                            at,
                        )
                        .await?;
                        id
                    }
                };
                crate::messages::record_form_consent(&mut tx, id, &inquiry, at).await?;
                (id, "public".to_owned())
            }
            Booker::Staff {
                inquiry_id,
                staff_email,
            } => {
                let moved = sqlx::query(
                    "UPDATE inquiries SET status = $1 WHERE id = $2 AND status <> 'closed'",
                )
                .bind(InquiryStatus::ConsultationBooked.as_str())
                .bind(inquiry_id)
                .execute(&mut *tx)
                .await?;
                if moved.rows_affected() == 0 {
                    return Err(StoreError::Conflict {
                        field: "inquiry",
                        message: "is closed or does not exist; reopen it before booking".into(),
                    });
                }
                (inquiry_id, staff_email.to_owned())
            }
        };
        let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
            "INSERT INTO consultations (inquiry_id, staff_user_id, starts_at, minutes, status, \
             time_zone, booked_at, booked_by) VALUES ($1, $2, $3, $4, 'booked', $5, $6, $7) \
             RETURNING id",
        )
        .bind(inquiry_id)
        .bind(booking.slot.staff_user_id)
        .bind(to_millis(booking.slot.starts_at))
        .bind(respite_domain::booking::SLOT_MINUTES)
        .bind(&booking.time_zone)
        .bind(to_millis(at))
        .bind(booked_by)
        .fetch_one(&mut *tx)
        .await;
        let (id,) = match inserted {
            Ok(row) => row,
            Err(err) if is_unique_violation(&err) => {
                return Err(StoreError::Conflict {
                    field: "slot",
                    message: SLOT_TAKEN.into(),
                })
            }
            Err(err) => return Err(err.into()),
        };
        // Its texts are enqueued with it: booked means reminded.
        for job in jobs(id) {
            crate::jobs::enqueue(&mut tx, &job, at).await?;
        }
        tx.commit().await?;
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
        let mut tx = self.pool.begin().await?;
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
        tx.commit().await?;
        Ok(true)
    }

    /// Moves a booked consultation to `slot`. The unique index refuses a
    /// slot someone holds ([`SLOT_TAKEN`]); false if it is not booked.
    pub async fn reschedule_consultation(
        &self,
        id: i64,
        slot: Slot,
        at: Timestamp,
        jobs: &[crate::NewJob],
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
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
            Err(err) if is_unique_violation(&err) => {
                return Err(StoreError::Conflict {
                    field: "slot",
                    message: SLOT_TAKEN.into(),
                })
            }
            Err(err) => return Err(err.into()),
        }
        // Reminders of the old time find it moved and finish unsent.
        for job in jobs {
            crate::jobs::enqueue(&mut tx, job, at).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a booked consultation that has started as a no-show; false if
    /// it is not booked or has not started by `now`.
    pub async fn mark_no_show(&self, id: i64, now: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE consultations SET status = 'no-show' \
             WHERE id = $1 AND status = 'booked' AND starts_at <= $2",
        )
        .bind(id)
        .bind(to_millis(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
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
