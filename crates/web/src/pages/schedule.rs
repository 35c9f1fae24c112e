//! The consultation schedule (SPEC §1 step 2, booking): the clinic's opening hours per
//! weekday, its holidays, and each consulting staff member's weekly
//! availability, from which the public booking page makes its slots. The
//! administrator changes them (ManageSchedule); the front desk, which books,
//! may look (ReadSchedule). The rules are `respite_domain::schedule`'s; a
//! form that breaks one comes back with 422, the message beside the field
//! and what was typed kept.
//!
//! A change only affects the slots offered to new bookings: consultations
//! already booked stay booked, and the page says so (and counts the booked
//! ones on each upcoming holiday, so that someone can call those people).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use respite_domain::booking::{OpeningHours, StaffAvailability};
use respite_domain::inquiry::FieldError;
use respite_domain::schedule::{
    self, AvailabilityForm, HolidayForm, OpeningHoursForm, CLOSES_FIELDS, MAX_INTERVALS_PER_DAY,
    OPENS_FIELDS, WEEKDAYS,
};
use respite_domain::Permission;
use respite_store::{AuditStamp, AvailabilityRecord};
use serde::Deserialize;

use super::{field_error, render_with, Nav, StaffPage};
use crate::access::AuditedRecord;
use crate::{AppError, AppState};

/// The form that came back refused, with what was typed and why.
enum Refused {
    Nothing,
    Hours(OpeningHoursForm, Vec<FieldError>),
    Holiday(HolidayForm, Vec<FieldError>),
    Availability(AvailabilityForm, Vec<FieldError>),
}

/// One row (interval) of a weekday's opening-hours form.
pub struct HoursRow {
    pub opens_field: &'static str,
    pub closes_field: &'static str,
    pub opens: String,
    pub closes: String,
    pub opens_error: Option<String>,
    pub closes_error: Option<String>,
}

/// One weekday's opening hours, as shown and as a form.
pub struct DayView {
    pub value: &'static str,
    pub label: &'static str,
    /// "09:00–12:00, 13:00–17:00" or "closed", as stored.
    pub summary: String,
    pub rows: Vec<HoursRow>,
    pub errors: usize,
}

pub struct HolidayView {
    pub day: String,
    pub label: String,
    pub name: String,
    /// Consultations booked on that day, which stay booked.
    pub booked: i64,
}

pub struct IntervalView {
    pub id: i64,
    pub weekday: &'static str,
    pub starts: String,
    pub ends: String,
    /// Why no slot (or not every slot) is offered in it since the clinic's
    /// hours changed.
    pub warning: Option<String>,
}

pub struct StaffView {
    pub id: i64,
    pub name: String,
    pub role: &'static str,
    pub intervals: Vec<IntervalView>,
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct SchedulePage {
    nav: Nav,
    can_manage: bool,
    clinic_zone: String,
    today: String,
    days: Vec<DayView>,
    /// An error of the hours forms that belongs to no weekday (a forged
    /// weekday value).
    hours_error: Option<String>,
    holidays: Vec<HolidayView>,
    holiday_form: HolidayForm,
    holiday_errors: Vec<FieldError>,
    staff: Vec<StaffView>,
    availability_form: AvailabilityForm,
    availability_errors: Vec<FieldError>,
    weekdays: Vec<(&'static str, &'static str)>,
}

impl SchedulePage {
    fn holiday_error(&self, field: &str) -> Option<&str> {
        field_error(&self.holiday_errors, field)
    }

    fn availability_error(&self, field: &str) -> Option<&str> {
        field_error(&self.availability_errors, field)
    }
}

/// `GET /staff/schedule`.
pub async fn schedule_page(
    State(state): State<AppState>,
    page: StaffPage,
) -> Result<Response, AppError> {
    show(&state, &page, Refused::Nothing, StatusCode::OK).await
}

/// The opening-hours form of one weekday as posted; a missing field is
/// read as empty.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HoursInput {
    weekday: String,
    opens_1: String,
    closes_1: String,
    opens_2: String,
    closes_2: String,
    opens_3: String,
    closes_3: String,
    opens_4: String,
    closes_4: String,
}

/// `POST /staff/schedule/hours`: replaces one weekday's opening hours.
pub async fn save_hours(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(input): Form<HoursInput>,
) -> Result<Response, AppError> {
    let form = OpeningHoursForm {
        weekday: input.weekday,
        opens: [input.opens_1, input.opens_2, input.opens_3, input.opens_4],
        closes: [
            input.closes_1,
            input.closes_2,
            input.closes_3,
            input.closes_4,
        ],
    };
    let hours = match form.validate() {
        Ok(hours) => hours,
        Err(errors) => {
            let refused = Refused::Hours(form, errors);
            return show(&state, &page, refused, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let record = format!("hours-{}", schedule::weekday_value(hours.weekday));
    state
        .store
        .stamped(&audit.naming(record.as_str()))
        .replace_opening_hours_of(hours.weekday, &hours.hours)
        .await?;
    done(&record, "hours")
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HolidayInput {
    day: String,
    name: String,
}

/// `POST /staff/schedule/holidays`: adds a holiday.
pub async fn add_holiday(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(input): Form<HolidayInput>,
) -> Result<Response, AppError> {
    let form = HolidayForm {
        day: input.day,
        name: input.name,
    };
    let refuse = |errors: Vec<FieldError>, status| {
        let (state, page) = (state.clone(), page.clone());
        let refused = Refused::Holiday(form.clone(), errors);
        async move { show(&state, &page, refused, status).await }
    };
    let holiday = match form.validate(page.today()) {
        Ok(holiday) => holiday,
        Err(errors) => return refuse(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    match state
        .store
        .stamped(&audit.naming(format!("holiday-{}", holiday.day)))
        .add_holiday(&holiday)
        .await
    {
        Ok(()) => done(&format!("holiday-{}", holiday.day), "holidays"),
        Err(err) => match crate::error::conflict(&err) {
            Some((field, message)) => {
                refuse(vec![FieldError { field, message }], StatusCode::CONFLICT).await
            }
            None => Err(err.into()),
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DayInput {
    day: String,
}

/// `POST /staff/schedule/holidays/remove`: the clinic opens that day after
/// all.
pub async fn remove_holiday(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    _page: StaffPage,
    Form(input): Form<DayInput>,
) -> Result<Response, AppError> {
    let day: Date = schedule::parse_date(&input.day).map_err(|message| AppError::BadRequest {
        field: "day",
        message,
    })?;
    if !state
        .store
        .stamped(&audit.naming(format!("holiday-{day}")))
        .remove_holiday(day)
        .await?
    {
        return Err(AppError::BadRequest {
            field: "day",
            message: format!("{day} is not a holiday (was it removed already?)"),
        });
    }
    done(&format!("holiday-{day}"), "holidays")
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AvailabilityInput {
    staff_user_id: String,
    weekday: String,
    starts: String,
    ends: String,
}

/// `POST /staff/schedule/availability`: adds a weekly interval in which a
/// staff member takes consultations.
pub async fn add_availability(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Form(input): Form<AvailabilityInput>,
) -> Result<Response, AppError> {
    let form = AvailabilityForm {
        staff_user_id: input.staff_user_id,
        weekday: input.weekday,
        starts: input.starts,
        ends: input.ends,
    };
    let refuse = |errors: Vec<FieldError>, status| {
        let (state, page) = (state.clone(), page.clone());
        let refused = Refused::Availability(form.clone(), errors);
        async move { show(&state, &page, refused, status).await }
    };
    let consulting: Vec<i64> = consulting_staff(&state)
        .await?
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    let hours = state.store.opening_hours().await?;
    let existing: Vec<StaffAvailability> = state
        .store
        .staff_availability()
        .await?
        .into_iter()
        .map(|record| record.availability)
        .collect();
    let availability = match form.validate(&consulting, &hours, &existing) {
        Ok(availability) => availability,
        Err(errors) => return refuse(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    match state
        .store
        .stamped(&audit)
        .add_staff_availability(&availability)
        .await
    {
        Ok(id) => done(&id.to_string(), "availability"),
        Err(err) => match crate::error::conflict(&err) {
            Some((field, message)) => {
                refuse(vec![FieldError { field, message }], StatusCode::CONFLICT).await
            }
            None => Err(err.into()),
        },
    }
}

/// `POST /staff/schedule/availability/{id}/remove`.
pub async fn remove_availability(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    _page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    if !state
        .store
        .stamped(&audit)
        .remove_staff_availability(id)
        .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/staff/schedule#availability").into_response())
}

/// The redirect back to the page's `section` after a change, naming what
/// changed for the audit.
fn done(record: &str, section: &str) -> Result<Response, AppError> {
    let mut response = Redirect::to(&format!("/staff/schedule#{section}")).into_response();
    response
        .extensions_mut()
        .insert(AuditedRecord(record.to_owned()));
    Ok(response)
}

/// Active staff who take consultations: id, name, role.
async fn consulting_staff(state: &AppState) -> Result<Vec<(i64, String, &'static str)>, AppError> {
    let mut staff: Vec<(i64, String, &'static str)> = state
        .store
        .staff_users()
        .await?
        .into_iter()
        .filter(|user| user.active && user.role.takes_consultations())
        .map(|user| (user.id, user.display_name, user.role.label()))
        .collect();
    staff.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(staff)
}

/// The schedule page, with a refused form's input and errors kept: the
/// weekdays' hours, the upcoming holidays, each consulting staff member's
/// availability.
async fn show(
    state: &AppState,
    page: &StaffPage,
    refused: Refused,
    status: StatusCode,
) -> Result<Response, AppError> {
    let hours = state.store.opening_hours().await?;
    let today = page.today();
    let (mut hours_form, mut holiday_form, mut availability_form) = (None, None, None);
    match refused {
        Refused::Nothing => {}
        Refused::Hours(form, errors) => hours_form = Some((form, errors)),
        Refused::Holiday(form, errors) => holiday_form = Some((form, errors)),
        Refused::Availability(form, errors) => availability_form = Some((form, errors)),
    }
    let hours_error = hours_form.as_ref().and_then(|(form, errors)| {
        schedule::parse_weekday(&form.weekday).is_err().then(|| {
            field_error(errors, "weekday")
                .unwrap_or_default()
                .to_owned()
        })
    });
    let days = WEEKDAYS
        .into_iter()
        .map(|weekday| day_view(weekday, &hours, hours_form.as_ref()))
        .collect();
    let holidays = holiday_views(state, &page.zone, today).await?;
    let staff = staff_views(state, &hours).await?;
    let (holiday_form, holiday_errors) = holiday_form.unwrap_or_default();
    let (availability_form, availability_errors) = availability_form.unwrap_or_default();
    render_with(
        status,
        &SchedulePage {
            nav: page.nav(),
            can_manage: page.may(Permission::ManageSchedule),
            clinic_zone: state.config.clinic_time_zone.clone(),
            today: today.to_string(),
            days,
            hours_error,
            holidays,
            holiday_form,
            holiday_errors,
            staff,
            availability_form,
            availability_errors,
            weekdays: WEEKDAYS
                .into_iter()
                .map(|d| (schedule::weekday_value(d), schedule::weekday_label(d)))
                .collect(),
        },
    )
}

/// One weekday's hours as stored, and its form: as typed when `refused`
/// is this weekday's, else filled from the stored hours.
fn day_view(
    weekday: Weekday,
    hours: &[OpeningHours],
    refused: Option<&(OpeningHoursForm, Vec<FieldError>)>,
) -> DayView {
    let of_day: Vec<&OpeningHours> = hours.iter().filter(|h| h.weekday == weekday).collect();
    let value = schedule::weekday_value(weekday);
    let summary = if of_day.is_empty() {
        "closed".to_owned()
    } else {
        of_day
            .iter()
            .map(|h| format!("{}–{}", schedule::hhmm(h.opens), schedule::hhmm(h.closes)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (typed, errors) = match refused {
        Some((form, errors)) if form.weekday.trim() == value => (form.clone(), errors.as_slice()),
        _ => {
            let mut form = OpeningHoursForm::default();
            for (n, h) in of_day.iter().take(MAX_INTERVALS_PER_DAY).enumerate() {
                form.opens[n] = schedule::hhmm(h.opens);
                form.closes[n] = schedule::hhmm(h.closes);
            }
            (form, &[][..])
        }
    };
    DayView {
        value,
        label: schedule::weekday_label(weekday),
        summary,
        errors: errors.len(),
        rows: (0..MAX_INTERVALS_PER_DAY)
            .map(|n| HoursRow {
                opens_field: OPENS_FIELDS[n],
                closes_field: CLOSES_FIELDS[n],
                opens: typed.opens[n].clone(),
                closes: typed.closes[n].clone(),
                opens_error: field_error(errors, OPENS_FIELDS[n]).map(str::to_owned),
                closes_error: field_error(errors, CLOSES_FIELDS[n]).map(str::to_owned),
            })
            .collect(),
    }
}

/// The holidays from `today` on, each with the consultations booked on it
/// (which stay booked), counted from one query over all of them.
async fn holiday_views(
    state: &AppState,
    zone: &TimeZone,
    today: Date,
) -> Result<Vec<HolidayView>, AppError> {
    let holidays = state.store.holidays_from(today).await?;
    // Each holiday as the instants it spans on the clinic's clock.
    let spans: Vec<Option<(Timestamp, Timestamp)>> = holidays
        .iter()
        .map(|holiday| {
            let end = holiday.day.tomorrow().ok().and_then(|d| start_of(d, zone));
            start_of(holiday.day, zone).zip(end)
        })
        .collect();
    let first = spans.iter().flatten().map(|(start, _)| *start).min();
    let last = spans.iter().flatten().map(|(_, end)| *end).max();
    let booked = match first.zip(last) {
        Some((first, last)) => state.store.booked_starts_between(first, last).await?,
        None => Vec::new(),
    };
    Ok(holidays
        .into_iter()
        .zip(spans)
        .map(|(holiday, span)| HolidayView {
            day: holiday.day.to_string(),
            label: holiday.day.strftime("%A %-d %B %Y").to_string(),
            name: holiday.name,
            booked: span.map_or(0, |(start, end)| {
                booked
                    .iter()
                    .filter(|at| start <= **at && **at < end)
                    .count() as i64
            }),
        })
        .collect())
}

/// Each consulting staff member with their weekly availability, flagging
/// an interval left outside the clinic's current `hours`.
async fn staff_views(state: &AppState, hours: &[OpeningHours]) -> Result<Vec<StaffView>, AppError> {
    let availability: Vec<AvailabilityRecord> = state.store.staff_availability().await?;
    Ok(consulting_staff(state)
        .await?
        .into_iter()
        .map(|(id, name, role)| StaffView {
            intervals: availability
                .iter()
                .filter(|record| record.availability.staff_user_id == id)
                .map(|record| interval_view(record, hours))
                .collect(),
            id,
            name,
            role,
        })
        .collect())
}

fn interval_view(record: &AvailabilityRecord, hours: &[OpeningHours]) -> IntervalView {
    let a = &record.availability;
    IntervalView {
        id: record.id,
        weekday: schedule::weekday_label(a.weekday),
        starts: schedule::hhmm(a.starts),
        ends: schedule::hhmm(a.ends),
        warning: schedule::outside_opening_hours(a, hours).map(|e| {
            let why = match e.field {
                "weekday" => e.message,
                field => format!("{field} {}", e.message),
            };
            format!(
                "Outside the clinic's current hours ({why}): slots are offered only where both overlap."
            )
        }),
    }
}

/// The first moment of `day` in `zone`.
fn start_of(day: Date, zone: &TimeZone) -> Option<Timestamp> {
    zone.to_ambiguous_timestamp(day.to_datetime(Time::midnight()))
        .compatible()
        .ok()
}
