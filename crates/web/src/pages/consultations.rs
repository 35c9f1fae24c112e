//! The free 15-minute phone consultation (SPEC §1 step 2): the public
//! booking page, the confirmation with its reschedule/cancel link, staff
//! booking for a person from the inquiry page, the consultation list and
//! no-shows.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use respite_domain::booking::{self, BookingForm, ConsultationStatus, NewBooking, Slot, SlotError};
use respite_domain::inquiry::FieldError;
use respite_domain::{Email, Permission, PhoneNumber};
use respite_store::{AuditStamp, Booker, ConsultationRecord, StoreError};
use serde::Deserialize;

use super::public::TIME_ZONES;
use super::{field_error, load_inquiry, parse_id, render, render_with, Nav, PublicPage, StaffPage};
use crate::access::AuditedRecord;
use crate::booking_token;
use crate::{error, AppError, AppState};

/// How far ahead slots are offered, in days.
pub const BOOKING_DAYS: i64 = 14;
/// The most times one page lists.
const MAX_TIMES_SHOWN: usize = 60;

/// One time a person can choose.
pub struct SlotChoice {
    pub key: String,
    pub label: String,
}

/// The choices of one day, in the person's zone.
pub struct SlotDay {
    pub label: String,
    pub slots: Vec<SlotChoice>,
}

#[derive(Template)]
#[template(path = "book.html")]
struct BookPage<'a> {
    clinic_name: &'a str,
    clinic: &'a crate::words::public::ClinicFacts,
    csrf: &'a str,
    form: BookingForm,
    errors: Vec<FieldError>,
    time_zones: Vec<String>,
    days: Vec<SlotDay>,
    /// The reschedule token when the page moves an existing booking.
    reschedule: Option<String>,
}

impl BookPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ZoneQuery {
    time_zone: String,
}

/// The open slots at `now`, one per start time (the earliest-listed staff
/// member takes it), grouped by day in `zone`.
async fn open_days(
    state: &AppState,
    now: Timestamp,
    zone: &TimeZone,
) -> Result<Vec<SlotDay>, AppError> {
    let clinic = &state.clinic_zone;
    let schedule = state.store.booking_schedule().await?;
    let horizon = now + SignedDuration::from_hours(24 * (BOOKING_DAYS + 1));
    let taken = state.store.taken_slots(now, horizon).await?;
    let mut days: Vec<SlotDay> = Vec::new();
    let mut last_start = None;
    let mut shown = 0;
    for slot in booking::open_slots(&schedule, clinic, now, BOOKING_DAYS, &taken) {
        if last_start == Some(slot.starts_at) {
            continue;
        }
        last_start = Some(slot.starts_at);
        shown += 1;
        if shown > MAX_TIMES_SHOWN {
            break;
        }
        let local = slot.starts_at.to_zoned(zone.clone());
        let day = local.strftime("%A %-d %B").to_string();
        let choice = SlotChoice {
            key: slot.key(),
            label: local.strftime("%-I:%M %p").to_string(),
        };
        match days.last_mut() {
            Some(last) if last.label == day => last.slots.push(choice),
            _ => days.push(SlotDay {
                label: day,
                slots: vec![choice],
            }),
        }
    }
    Ok(days)
}

fn zone_list(chosen: &str) -> Vec<String> {
    let mut zones: Vec<String> = TIME_ZONES.iter().map(|&z| z.to_owned()).collect();
    if !chosen.is_empty() && !zones.iter().any(|z| z == chosen) {
        zones.push(chosen.to_owned());
    }
    zones
}

/// The zone a page shows times in: the requested one if it is real, else
/// the clinic's.
fn person_zone(state: &AppState, requested: &str) -> (String, TimeZone) {
    match TimeZone::get(requested.trim()) {
        Ok(tz) if !requested.trim().is_empty() => (requested.trim().to_owned(), tz),
        _ => (
            state.config.clinic_time_zone.clone(),
            state.clinic_zone.clone(),
        ),
    }
}

async fn book_page(
    state: &AppState,
    page: &PublicPage,
    form: BookingForm,
    errors: Vec<FieldError>,
    reschedule: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (name, tz) = person_zone(state, &form.time_zone);
    let form = BookingForm {
        time_zone: name.clone(),
        ..form
    };
    render_with(
        status,
        &BookPage {
            clinic_name: &page.clinic_name,
            clinic: &page.clinic,
            csrf: &page.csrf,
            days: open_days(state, page.now, &tz).await?,
            time_zones: zone_list(&name),
            form,
            errors,
            reschedule,
        },
    )
}

/// `GET /consultations`: the open times in the person's zone and the form.
pub async fn book_form(
    State(state): State<AppState>,
    page: PublicPage,
    Query(query): Query<ZoneQuery>,
) -> Result<Response, AppError> {
    let form = BookingForm {
        time_zone: query.time_zone,
        ..BookingForm::default()
    };
    book_page(&state, &page, form, Vec::new(), None, StatusCode::OK).await
}

/// The booking form as posted; a missing field is reported like an empty one.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BookingInput {
    name: String,
    phone: String,
    email: String,
    time_zone: String,
    slot: String,
    consent: Option<String>,
}

/// `POST /consultations`: books from the public page.
pub async fn book(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: PublicPage,
    client: crate::client::ClientAddress,
    Form(input): Form<BookingInput>,
) -> Result<Response, AppError> {
    let form = BookingForm {
        name: input.name,
        phone: input.phone,
        email: input.email,
        time_zone: input.time_zone,
        slot: input.slot,
        consent: input.consent.is_some_and(|v| v == "yes" || v == "on"),
    };
    let refuse = |errors: Vec<FieldError>, status| {
        let form = form.clone();
        let (state, page) = (state.clone(), page.clone());
        async move { book_page(&state, &page, form, errors, None, status).await }
    };
    let booking = match form.validate(&state.config.clinic_region) {
        Ok(booking) => booking,
        Err(errors) => return refuse(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if let Err(err) = offered(&state, page.now, booking.slot).await? {
        return refuse(vec![err], StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let now = page.now;
    let joined_note = joined_note(&booking);
    let source = client.to_string();
    let booker = Booker::Public {
        joined_note: &joined_note,
        source_address: &source,
        per_source_per_day: state.config.bookings_per_source_per_day,
    };
    match state
        .store
        .stamped(&audit)
        .book_consultation(&booking, booker, now, |id| {
            crate::jobs::booking_jobs(&state.config, id, &booking, now)
        })
        .await
    {
        Ok(id) => confirmed(&state, id, &booking).await,
        Err(StoreError::AlreadyBooked { kind, starts_at }) => {
            let when = TimeZone::get(&booking.time_zone)
                .map(|zone| {
                    starts_at
                        .to_zoned(zone)
                        .strftime("%A %-d %B, %-I:%M %p %Z")
                        .to_string()
                })
                .unwrap_or_else(|_| starts_at.to_string());
            let error = FieldError {
                field: kind.as_str(),
                message: format!(
                    "already has a booked consultation on {when}; change or cancel it with \
                     the link in the confirmation"
                ),
            };
            refuse(vec![error], StatusCode::CONFLICT).await
        }
        Err(StoreError::TooManyBookingsFromSource { limit }) => {
            let error = FieldError {
                field: "source",
                message: format!(
                    "this connection has made {limit} bookings in the last 24 hours, the most \
                     the clinic accepts; please call the clinic to book"
                ),
            };
            // The window is a rolling 24 hours: an hour is an honest hint
            // of when to look again, not a promise.
            let mut response = refuse(vec![error], StatusCode::TOO_MANY_REQUESTS).await?;
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("3600"),
            );
            Ok(response)
        }
        Err(err) => match crate::error::conflict(&err) {
            Some((field, message)) => {
                refuse(vec![FieldError { field, message }], StatusCode::CONFLICT).await
            }
            None => Err(err.into()),
        },
    }
}

/// The thread's message when a public booking joins the person's open
/// thread: when (in the person's zone) and under which name.
fn joined_note(booking: &NewBooking) -> String {
    let when = TimeZone::get(&booking.time_zone)
        .map(|zone| {
            booking
                .slot
                .starts_at
                .to_zoned(zone)
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_else(|_| booking.slot.starts_at.to_string());
    format!(
        "Booked the free phone consultation for {when} on the public page, as {}.",
        booking.name
    )
}

/// Whether the schedule offers `slot` at `now` (taken or not: the database
/// decides that).
async fn offered(
    state: &AppState,
    now: Timestamp,
    slot: Slot,
) -> Result<Result<(), FieldError>, AppError> {
    let schedule = state.store.booking_schedule().await?;
    Ok(
        booking::check_slot(&schedule, &state.clinic_zone, now, BOOKING_DAYS, slot).map_err(
            |err| FieldError {
                field: "slot",
                message: match err {
                    SlotError::Past => "this time has already passed; choose a later one".into(),
                    SlotError::NotOffered => {
                        "the clinic offers no consultation at this time; choose one of the listed times".into()
                    }
                },
            },
        ),
    )
}

/// The redirect to the confirmation, naming the new record for the audit.
async fn confirmed(state: &AppState, id: i64, booking: &NewBooking) -> Result<Response, AppError> {
    let secret = booking_token::secret(state).await?;
    let token = booking_token::sign(&secret, id, booking.slot.starts_at);
    let mut response =
        Redirect::to(&format!("/consultations/booking?token={token}")).into_response();
    response
        .extensions_mut()
        .insert(AuditedRecord(id.to_string()));
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenInput {
    token: String,
    slot: String,
    time_zone: String,
}

/// Verifies a link's token and loads its consultation; a refused link
/// (forged, expired, or from before a reschedule) is
/// [`AppError::LinkRefused`], whose page says which rule failed.
async fn from_token(
    state: &AppState,
    now: Timestamp,
    token: &str,
) -> Result<ConsultationRecord, AppError> {
    let secret = booking_token::secret(state).await?;
    let id = booking_token::verify(&secret, token, now)?;
    let record = state
        .store
        .consultation(id)
        .await?
        .ok_or(AppError::NotFound)?;
    booking_token::still_current(token, record.starts_at)?;
    Ok(record)
}

#[derive(Template)]
#[template(path = "booking.html")]
struct BookingPage<'a> {
    clinic_name: &'a str,
    clinic: &'a crate::words::public::ClinicFacts,
    csrf: &'a str,
    token: &'a str,
    record: ConsultationRecord,
    person_time: String,
    person_zone: String,
    clinic_time: String,
    clinic_zone: String,
    booked: bool,
}

/// `GET /consultations/booking?token=…`: the confirmation, and the place to
/// reschedule or cancel.
pub async fn booking_page(
    State(state): State<AppState>,
    page: PublicPage,
    Query(input): Query<TokenInput>,
) -> Result<Response, AppError> {
    let record = from_token(&state, page.now, &input.token).await?;
    let id = record.id.to_string();
    let (person_zone, person_tz) = person_zone(&state, &record.time_zone);
    let format = "%A %-d %B %Y, %-I:%M %p %Z";
    let mut response = render(&BookingPage {
        clinic_name: &page.clinic_name,
        clinic: &page.clinic,
        csrf: &page.csrf,
        token: &input.token,
        person_time: record
            .starts_at
            .to_zoned(person_tz)
            .strftime(format)
            .to_string(),
        clinic_time: record
            .starts_at
            .to_zoned(page.zone.clone())
            .strftime(format)
            .to_string(),
        person_zone,
        clinic_zone: state.config.clinic_time_zone.clone(),
        booked: record.status == ConsultationStatus::Booked,
        record,
    })?;
    response.extensions_mut().insert(AuditedRecord(id));
    Ok(response)
}

/// `POST /consultations/booking/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: PublicPage,
    Form(input): Form<TokenInput>,
) -> Result<Response, AppError> {
    let now = page.now;
    let record = from_token(&state, now, &input.token).await?;
    let jobs = crate::jobs::cancellation_jobs(&state.config, &record, now);
    if !state
        .store
        .stamped(&audit)
        .cancel_consultation(record.id, now, &jobs)
        .await?
    {
        return Err(AppError::BadRequest {
            field: "token",
            message: "this consultation is no longer booked, so it cannot be cancelled".into(),
        });
    }
    let mut response = error::page(
        StatusCode::OK,
        "Your consultation is cancelled",
        "We have cancelled your free phone consultation, and will confirm it by text or e-mail. You can book a new time on our consultations page.",
    );
    response
        .extensions_mut()
        .insert(AuditedRecord(record.id.to_string()));
    Ok(response)
}

/// `GET /consultations/booking/reschedule?token=…`: the open times, to move
/// the booking.
pub async fn reschedule_form(
    State(state): State<AppState>,
    page: PublicPage,
    Query(input): Query<TokenInput>,
) -> Result<Response, AppError> {
    let record = from_token(&state, page.now, &input.token).await?;
    let form = BookingForm {
        name: record.name,
        time_zone: record.time_zone,
        ..BookingForm::default()
    };
    book_page(
        &state,
        &page,
        form,
        Vec::new(),
        Some(input.token),
        StatusCode::OK,
    )
    .await
}

/// `POST /consultations/booking/reschedule`: moves the booking to `slot`.
pub async fn reschedule(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: PublicPage,
    Form(input): Form<TokenInput>,
) -> Result<Response, AppError> {
    let now = page.now;
    let record = from_token(&state, now, &input.token).await?;
    let form = BookingForm {
        name: record.name.clone(),
        time_zone: if input.time_zone.is_empty() {
            record.time_zone.clone()
        } else {
            input.time_zone.clone()
        },
        ..BookingForm::default()
    };
    let refuse = |error: FieldError, status| {
        let (state, page) = (state.clone(), page.clone());
        let token = input.token.clone();
        let form = form.clone();
        async move { book_page(&state, &page, form, vec![error], Some(token), status).await }
    };
    let slot = match Slot::parse(&input.slot) {
        Ok(slot) => slot,
        Err(err) => return refuse(err, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if let Err(err) = offered(&state, now, slot).await? {
        return refuse(err, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let moved = NewBooking {
        name: record.name.clone(),
        phone: record
            .phone_e164
            .as_deref()
            .and_then(|p| PhoneNumber::from_e164(p).ok()),
        email: record.email.as_deref().and_then(|e| Email::parse(e).ok()),
        time_zone: record.time_zone.clone(),
        slot,
    };
    let jobs = crate::jobs::booking_jobs(&state.config, record.id, &moved, now);
    match state
        .store
        .stamped(&audit)
        .reschedule_consultation(record.id, slot, now, &jobs)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            return Err(AppError::BadRequest {
                field: "token",
                message: "this consultation is no longer booked, so it cannot be moved".into(),
            })
        }
        Err(err) => {
            return match crate::error::conflict(&err) {
                Some((field, message)) => {
                    refuse(FieldError { field, message }, StatusCode::CONFLICT).await
                }
                None => Err(err.into()),
            }
        }
    }
    let booking = NewBooking {
        name: record.name,
        phone: None,
        email: None,
        time_zone: record.time_zone,
        slot,
    };
    confirmed(&state, record.id, &booking).await
}

// ---- Staff -----------------------------------------------------------------

/// A consultation row on staff pages.
pub struct StaffRow {
    pub record: ConsultationRecord,
    pub clinic_time: String,
    pub can_mark_no_show: bool,
}

fn staff_rows(page: &StaffPage, records: Vec<ConsultationRecord>) -> Vec<StaffRow> {
    records
        .into_iter()
        .map(|record| StaffRow {
            clinic_time: page.time(record.starts_at),
            can_mark_no_show: record.status == ConsultationStatus::Booked
                && record.starts_at <= page.now,
            record,
        })
        .collect()
}

/// The consultations of an inquiry and the times staff can book, for the
/// inquiry page.
pub async fn for_inquiry(
    state: &AppState,
    page: &StaffPage,
    inquiry_id: i64,
) -> Result<(Vec<StaffRow>, Vec<SlotDay>), AppError> {
    let records = state.store.consultations_of_inquiry(inquiry_id).await?;
    Ok((
        staff_rows(page, records),
        open_days(state, page.now, &page.zone).await?,
    ))
}

#[derive(Template)]
#[template(path = "staff_consultations.html")]
struct StaffListPage {
    nav: Nav,
    rows: Vec<StaffRow>,
    can_write: bool,
    clinic_zone: String,
    /// The address of this staff member's own calendar feed.
    feed: String,
}

/// `GET /staff/consultations`: from yesterday on, earliest first.
pub async fn staff_list(
    State(state): State<AppState>,
    page: StaffPage,
) -> Result<Response, AppError> {
    let from = page.now - SignedDuration::from_hours(24);
    let records = state.store.consultations_from(from, 500).await?;
    let feed = state
        .store
        .calendar_secret(page.session.user.id, &crate::auth::random_hex(24))
        .await?;
    render(&StaffListPage {
        nav: page.nav(),
        rows: staff_rows(&page, records),
        can_write: page.may(Permission::WriteInquiries),
        clinic_zone: state.config.clinic_time_zone.clone(),
        feed: format!("/ical/{feed}.ics"),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StaffBookingInput {
    slot: String,
}

/// `POST /staff/inquiries/{id}/consultations`: books for the person of the
/// inquiry, in their zone.
pub async fn staff_book(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<StaffBookingInput>,
) -> Result<Response, AppError> {
    let inquiry = load_inquiry(&state, &id).await?;
    let inquiry_id = inquiry.id;
    let slot = Slot::parse(&input.slot)?;
    offered(&state, page.now, slot).await??;
    let booking = NewBooking {
        name: inquiry.name.clone(),
        phone: inquiry
            .phone_e164
            .as_deref()
            .and_then(|p| PhoneNumber::from_e164(p).ok()),
        email: inquiry.email.as_deref().and_then(|e| Email::parse(e).ok()),
        time_zone: inquiry.time_zone.clone(),
        slot,
    };
    let booker = Booker::Staff {
        inquiry_id,
        staff_email: &page.session.user.email,
    };
    let now = page.now;
    state
        .store
        .stamped(&audit)
        .book_consultation(&booking, booker, now, |id| {
            crate::jobs::booking_jobs(&state.config, id, &booking, now)
        })
        .await?;
    Ok(Redirect::to(&format!("/staff/inquiries/{inquiry_id}")).into_response())
}

/// `POST /staff/consultations/{id}/no-show`: the person was not reached at
/// a consultation that has begun.
pub async fn no_show(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let record = state
        .store
        .consultation(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !state
        .store
        .stamped(&audit)
        .mark_no_show(id, page.now)
        .await?
    {
        return Err(AppError::BadRequest {
            field: "status",
            message: "only a booked consultation that has begun can be marked as a no-show".into(),
        });
    }
    let back = match record.inquiry_id {
        Some(inquiry) => format!("/staff/inquiries/{inquiry}"),
        None => "/staff/consultations".to_owned(),
    };
    Ok(Redirect::to(&back).into_response())
}

// ---- iCalendar -------------------------------------------------------------

fn ics_response(body: String, filename: &str) -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `GET /consultations/booking.ics?token=…`: the person's consultation as
/// an iCalendar file.
pub async fn booking_ics(
    State(state): State<AppState>,
    page: PublicPage,
    Query(input): Query<TokenInput>,
) -> Result<Response, AppError> {
    let record = from_token(&state, page.now, &input.token).await?;
    let event = crate::ical::person_event(&page.clinic_name, &record);
    let body = crate::ical::calendar(&page.clinic_name, &[event], page.now);
    let mut response = ics_response(body, "consultation.ics");
    response
        .extensions_mut()
        .insert(AuditedRecord(record.id.to_string()));
    Ok(response)
}

/// `GET /ical/{secret}.ics`: a staff member's consultations from 30 days
/// back, behind the secret address shown on their consultation list.
pub async fn staff_feed(
    State(state): State<AppState>,
    page: PublicPage,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let secret = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    let (staff_user_id, staff_name) = state
        .store
        .staff_by_calendar_secret(secret)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = page.now;
    let from = now - SignedDuration::from_hours(24 * 30);
    let events: Vec<crate::ical::Event> = state
        .store
        .consultations_of_staff(staff_user_id, from)
        .await?
        .into_iter()
        .map(|record| crate::ical::Event {
            uid: format!("consultation-{}@respite", record.id),
            starts_at: record.starts_at,
            ends_at: record.starts_at + SignedDuration::from_mins(record.minutes),
            summary: format!("Phone consultation: {}", record.name),
            description: format!(
                "Call {} ({}). Status: {}.",
                record.phone_e164.as_deref().unwrap_or("no phone given"),
                if record.time_zone.is_empty() {
                    "zone unknown"
                } else {
                    &record.time_zone
                },
                record.status
            ),
            cancelled: record.status == ConsultationStatus::Cancelled,
        })
        .collect();
    let body = crate::ical::calendar(&format!("Consultations: {staff_name}"), &events, now);
    let mut response = ics_response(body, "consultations.ics");
    // The audit names the staff member, never the secret of the address.
    response
        .extensions_mut()
        .insert(AuditedRecord(format!("staff-{staff_user_id}")));
    Ok(response)
}
