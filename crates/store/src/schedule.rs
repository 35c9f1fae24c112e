//! The consultation schedule (SPEC §1 step 2): the clinic's opening hours
//! per weekday, its holidays, and each staff member's weekly availability.
//! This module owns those tables: it reads them for the slots offered
//! ([`Store::booking_schedule`]) and changes them for the administrator's
//! schedule page. The rules (`HH:MM`, no overlap, inside the
//! opening hours) are `respite_domain::schedule`'s; here each change is one
//! transaction, and the changes that read before they write (availability:
//! "does it overlap?") run serialised, so that two administrators at once
//! cannot leave overlapping intervals.
//!
//! Booked consultations are never touched: the schedule decides which slots
//! are offered to new bookings, nothing else.

use jiff::civil::{Date, Time, Weekday};
use respite_domain::booking::{OpeningHours, Schedule, StaffAvailability};
use respite_domain::schedule::Holiday;

use crate::{from_millis, is_unique_violation, to_millis, Engine, Store, StoreError, StoreResult};

/// One interval of a staff member's weekly availability, with its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvailabilityRecord {
    pub id: i64,
    pub availability: StaffAvailability,
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

    /// The clinic's opening hours, by weekday (Monday first), then opening.
    pub async fn opening_hours(&self) -> StoreResult<Vec<OpeningHours>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT weekday, opens, closes FROM clinic_opening_hours ORDER BY weekday, opens",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(weekday, opens, closes)| {
                Ok(OpeningHours {
                    weekday: weekday_from(weekday)?,
                    opens: time_from(&opens)?,
                    closes: time_from(&closes)?,
                })
            })
            .collect()
    }

    /// Replaces the opening hours of `weekday` with `hours` (empty: closed
    /// that day), in one transaction. Every entry of `hours` must be of
    /// `weekday`.
    pub async fn replace_opening_hours_of(
        &self,
        weekday: Weekday,
        hours: &[OpeningHours],
    ) -> StoreResult<()> {
        if hours.iter().any(|h| h.weekday != weekday) {
            return Err(StoreError::WeekdayMismatch);
        }
        let mut tx = self.schedule_transaction().await?;
        sqlx::query("DELETE FROM clinic_opening_hours WHERE weekday = $1")
            .bind(weekday_number(weekday))
            .execute(&mut *tx)
            .await?;
        for h in hours {
            sqlx::query(
                "INSERT INTO clinic_opening_hours (weekday, opens, closes) VALUES ($1, $2, $3)",
            )
            .bind(weekday_number(h.weekday))
            .bind(hhmm(h.opens))
            .bind(hhmm(h.closes))
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, None).await?;
        Ok(())
    }

    /// Replaces all of the clinic's opening hours (the demo and tests).
    pub async fn set_opening_hours(&self, hours: &[OpeningHours]) -> StoreResult<()> {
        let mut tx = self.schedule_transaction().await?;
        sqlx::query("DELETE FROM clinic_opening_hours")
            .execute(&mut *tx)
            .await?;
        for h in hours {
            sqlx::query(
                "INSERT INTO clinic_opening_hours (weekday, opens, closes) VALUES ($1, $2, $3)",
            )
            .bind(weekday_number(h.weekday))
            .bind(hhmm(h.opens))
            .bind(hhmm(h.closes))
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, None).await?;
        Ok(())
    }

    /// Holidays on or after `from`, earliest first.
    pub async fn holidays_from(&self, from: Date) -> StoreResult<Vec<Holiday>> {
        // ISO dates compare as text in calendar order.
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT day, name FROM clinic_holidays WHERE day >= $1 ORDER BY day")
                .bind(from.to_string())
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(day, name)| {
                let day = day
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("holiday `{day}`")))?;
                Ok(Holiday { day, name })
            })
            .collect()
    }

    /// Adds a holiday; a day that is a holiday already is refused with
    /// [`StoreError::HolidayExists`].
    pub async fn add_holiday(&self, holiday: &Holiday) -> StoreResult<()> {
        let mut tx = self.schedule_transaction().await?;
        let inserted = sqlx::query("INSERT INTO clinic_holidays (day, name) VALUES ($1, $2)")
            .bind(holiday.day.to_string())
            .bind(&holiday.name)
            .execute(&mut *tx)
            .await;
        match inserted {
            Ok(_) => self.commit(tx, None).await,
            Err(err) if is_unique_violation(&err) => Err(StoreError::HolidayExists(holiday.day)),
            Err(err) => Err(err.into()),
        }
    }

    /// Removes the holiday on `day`; false if there is none.
    pub async fn remove_holiday(&self, day: Date) -> StoreResult<bool> {
        let mut tx = self.schedule_transaction().await?;
        let done = sqlx::query("DELETE FROM clinic_holidays WHERE day = $1")
            .bind(day.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.commit(tx, None).await?;
        Ok(true)
    }

    /// Every recorded interval of weekly availability, by staff member,
    /// weekday and start.
    pub async fn staff_availability(&self) -> StoreResult<Vec<AvailabilityRecord>> {
        let rows: Vec<(i64, i64, i64, String, String)> = sqlx::query_as(
            "SELECT id, staff_user_id, weekday, starts, ends FROM staff_availability \
             ORDER BY staff_user_id, weekday, starts",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, staff_user_id, weekday, starts, ends)| {
                Ok(AvailabilityRecord {
                    id,
                    availability: StaffAvailability {
                        staff_user_id,
                        weekday: weekday_from(weekday)?,
                        starts: time_from(&starts)?,
                        ends: time_from(&ends)?,
                    },
                })
            })
            .collect()
    }

    /// Adds a weekly interval in which a staff member takes consultations
    /// and returns its id. One that overlaps an interval of the same staff
    /// member and weekday is refused with [`StoreError::AvailabilityOverlaps`] on
    /// `starts` (the domain checks this first; this is the guard against two
    /// administrators adding at once).
    pub async fn add_staff_availability(
        &self,
        availability: &StaffAvailability,
    ) -> StoreResult<i64> {
        let mut tx = self.schedule_transaction().await?;
        // `HH:MM` texts compare in time order.
        let overlapping: Option<(String, String)> = sqlx::query_as(
            "SELECT starts, ends FROM staff_availability \
             WHERE staff_user_id = $1 AND weekday = $2 AND starts < $3 AND ends > $4 LIMIT 1",
        )
        .bind(availability.staff_user_id)
        .bind(weekday_number(availability.weekday))
        .bind(hhmm(availability.ends))
        .bind(hhmm(availability.starts))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((starts, ends)) = overlapping {
            return Err(StoreError::AvailabilityOverlaps { starts, ends });
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO staff_availability (staff_user_id, weekday, starts, ends) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(availability.staff_user_id)
        .bind(weekday_number(availability.weekday))
        .bind(hhmm(availability.starts))
        .bind(hhmm(availability.ends))
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, Some(&id.to_string())).await?;
        Ok(id)
    }

    /// Removes one interval of availability; false if there is none.
    pub async fn remove_staff_availability(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.schedule_transaction().await?;
        let done = sqlx::query("DELETE FROM staff_availability WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        self.commit(tx, None).await?;
        Ok(true)
    }

    /// The start of every consultation booked (not cancelled, not yet held)
    /// in `[from, to)`, earliest first: one query for the schedule page,
    /// which counts them per holiday.
    pub async fn booked_starts_between(
        &self,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> StoreResult<Vec<jiff::Timestamp>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT starts_at FROM consultations \
             WHERE status = 'booked' AND starts_at >= $1 AND starts_at < $2 \
             ORDER BY starts_at",
        )
        .bind(to_millis(from))
        .bind(to_millis(to))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|(ms,)| from_millis(ms)).collect()
    }

    /// A transaction for a schedule change, serialised with every other:
    /// SQLite takes its write lock first; PostgreSQL takes one advisory lock
    /// (schedule changes are rare, one lock is enough).
    async fn schedule_transaction(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => {
                let mut tx = self.pool.begin().await?;
                // 7274670: this module's lock space.
                sqlx::query("SELECT pg_advisory_xact_lock(7274670)")
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        })
    }
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
