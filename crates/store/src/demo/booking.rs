//! The demo's consultations that show their lifecycle (SPEC §1 step 2): the
//! two latest calls of the clinic's hours that have begun (not yet marked),
//! for staff to mark held or missed, and one in three days the person
//! cancelled two hours ago, waiting for a call back. Deterministic: fixed
//! people, times counted from the demo's clock, inside the clinic's
//! default hours (weekdays 09:00–17:00).

use jiff::{SignedDuration, Timestamp};
use respite_domain::inquiry::{
    Channel, ContactWindow, Days, NewInquiry, PainArea, PainDuration, PreferredChannel,
};
use respite_domain::thread::{CallbackReason, InquiryStatus};
use respite_domain::PhoneNumber;

use crate::{to_millis, StoreError, StoreResult};

/// The people of these consultations: name, phone, e-mail local part.
const PEOPLE: [(&str, &str, &str); 3] = [
    ("Grace Whitfield", "+13125550190", "grace.whitfield"),
    ("Henry Castillo", "+13125550191", "henry.castillo"),
    ("Irene Novak", "+13125550192", "irene.novak"),
];

/// Adds the lifecycle consultations at `now` with `staff` (a consulting
/// staff member); returns how many consultations it added.
pub(super) async fn lifecycle(
    conn: &mut sqlx::AnyConnection,
    now: Timestamp,
    staff: &[i64],
) -> StoreResult<usize> {
    // The last quarter hour before now: the two calls that have begun.
    let quarter = 15 * 60 * 1000;
    let begun = Timestamp::from_millisecond(now.as_millisecond() / quarter * quarter)
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let cancelled_at = now - SignedDuration::from_hours(2);
    let tz = jiff::tz::TimeZone::get(super::DEMO_CLINIC_TIME_ZONE)
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    let in_three_days = now
        .to_zoned(tz.clone())
        .date()
        .checked_add(jiff::Span::new().days(3))
        .and_then(|d| {
            d.to_datetime(jiff::civil::Time::constant(10, 0, 0, 0))
                .to_zoned(tz.clone())
        })
        .map_err(|err| StoreError::Corrupt(err.to_string()))?
        .timestamp();
    let mut added = 0;
    for (n, (name, phone, email)) in PEOPLE.into_iter().enumerate() {
        let inquiry = NewInquiry {
            channel: Channel::Web,
            name: name.to_owned(),
            phone: Some(
                PhoneNumber::from_e164(phone)
                    .map_err(|err| StoreError::Corrupt(err.to_string()))?,
            ),
            email: respite_domain::Email::parse(&format!("{email}@example.net")).ok(),
            preferred_channel: PreferredChannel::Phone,
            windows: vec![ContactWindow {
                days: Days::Weekdays,
                start: jiff::civil::Time::constant(17, 0, 0, 0),
                end: jiff::civil::Time::constant(19, 0, 0, 0),
            }],
            time_zone: "America/Chicago".to_owned(),
            pain_area: Some([PainArea::Back, PainArea::Headache, PainArea::Crps][n]),
            pain_duration: Some(PainDuration::OneToFiveYears),
            message: "Booked the free call from the clinic page.".to_owned(),
            consent_to_contact: true,
        };
        let received = now - SignedDuration::from_hours(72);
        let status = if n < 2 {
            InquiryStatus::ConsultationBooked
        } else {
            InquiryStatus::Contacted
        };
        let inquiry_id = crate::inquiries::insert(conn, &inquiry, received, status).await?;
        // A free slot near the wanted start: the demo's other consultations
        // may hold it (the unique index would refuse a second).
        let wanted = if n < 2 { begun } else { in_three_days };
        let (staff_user_id, starts) = free_slot(conn, staff, wanted, &tz).await?;
        let consultation_status = if n < 2 { "booked" } else { "cancelled" };
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO consultations (inquiry_id, staff_user_id, starts_at, minutes, status, \
             time_zone, booked_at, booked_by, sequence) \
             VALUES ($1, $2, $3, 15, $4, 'America/Chicago', $5, 'public', $6) RETURNING id",
        )
        .bind(inquiry_id)
        .bind(staff_user_id)
        .bind(to_millis(starts))
        .bind(consultation_status)
        .bind(to_millis(received))
        .bind(if n < 2 { 0_i64 } else { 1 })
        .fetch_one(&mut *conn)
        .await?;
        added += 1;
        event(conn, inquiry_id, id, received, "booked", starts).await?;
        if n == 2 {
            // She cancelled by her link: the front desk is to call.
            event(conn, inquiry_id, id, cancelled_at, "cancelled", starts).await?;
            let task = crate::inquiries::create_callback_task(
                conn,
                inquiry_id,
                CallbackReason::CancelledConsultation,
                Some(phone),
                None,
                cancelled_at,
            )
            .await?;
            sqlx::query("UPDATE callback_tasks SET consultation_id = $1 WHERE id = $2")
                .bind(id)
                .bind(task)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(added)
}

/// The first start from `wanted` (then each quarter hour before it) inside
/// the clinic's default hours (a weekday, 09:00 to 16:45 clinic time) at
/// which one of `staff` holds no consultation.
async fn free_slot(
    conn: &mut sqlx::AnyConnection,
    staff: &[i64],
    wanted: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> StoreResult<(i64, Timestamp)> {
    use jiff::civil::{Time, Weekday};
    for step in 0..(14 * 24 * 4) {
        let starts = wanted - SignedDuration::from_mins(15 * step);
        let local = starts.to_zoned(tz.clone());
        let weekend = matches!(local.weekday(), Weekday::Saturday | Weekday::Sunday);
        let time = local.time();
        if weekend || time < Time::constant(9, 0, 0, 0) || time > Time::constant(16, 45, 0, 0) {
            continue;
        }
        for &staff_user_id in staff {
            let (held,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM consultations \
                 WHERE staff_user_id = $1 AND starts_at = $2 AND status <> 'cancelled'",
            )
            .bind(staff_user_id)
            .bind(to_millis(starts))
            .fetch_one(&mut *conn)
            .await?;
            if held == 0 {
                return Ok((staff_user_id, starts));
            }
        }
    }
    Err(StoreError::Corrupt("the demo found no free slot".into()))
}

async fn event(
    conn: &mut sqlx::AnyConnection,
    inquiry_id: i64,
    consultation_id: i64,
    at: Timestamp,
    kind: &str,
    starts: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO consultation_events (inquiry_id, consultation_id, at, kind, starts_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(inquiry_id)
    .bind(consultation_id)
    .bind(to_millis(at))
    .bind(kind)
    .bind(to_millis(starts))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
