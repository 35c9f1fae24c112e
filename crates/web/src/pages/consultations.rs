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
use respite_domain::inquiry::ContactWindow;
use respite_domain::inquiry::FieldError;
use respite_domain::{Email, Permission, PhoneNumber};
use respite_store::{
    AuditStamp, Booker, ChangedBy, ConsultationEventRecord, ConsultationFilter, ConsultationRecord,
    StoreError,
};
use serde::Deserialize;

use super::public::TIME_ZONES;
use super::{field_error, load_inquiry, parse_id, render, render_with, Nav, PublicPage, StaffPage};
use crate::access::AuditedRecord;
use crate::booking_token;
use crate::{AppError, AppState};

/// How far ahead slots are offered, in days.
pub const BOOKING_DAYS: i64 = 14;
/// How many days with open times one page of the public booking page
/// shows; "Later dates" (a plain link) shows the next ones.
const DAYS_PER_PAGE: usize = 4;

/// One time a person can choose.
pub struct SlotChoice {
    pub key: String,
    pub label: String,
    /// Inside the person's best-time windows, on their own clock (staff
    /// pages mark these; the public page does not use it).
    pub in_window: bool,
}

/// The choices of one day, in the zone the page shows.
pub struct SlotDay {
    pub label: String,
    /// The day as `YYYY-MM-DD`, the value of the "later dates" link.
    pub date: String,
    pub slots: Vec<SlotChoice>,
}

/// What the booking page is for: a new booking, moving one (by its link),
/// or booking again after a cancellation (by the cancelled one's link).
#[derive(Clone, Debug, PartialEq, Eq)]
enum BookMode {
    New,
    Reschedule(String),
    Again(String),
}

impl BookMode {
    fn token(&self) -> Option<&str> {
        match self {
            BookMode::New => None,
            BookMode::Reschedule(token) | BookMode::Again(token) => Some(token),
        }
    }

    /// Where the form posts, and where the zone and date links go.
    fn action(&self) -> &'static str {
        match self {
            BookMode::New => "/consultations",
            BookMode::Reschedule(_) => "/consultations/booking/reschedule",
            BookMode::Again(_) => "/consultations/booking/again",
        }
    }
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
    mode: BookMode,
    /// The links to the earlier and later days' times, if any.
    earlier: Option<String>,
    later: Option<String>,
}

impl BookPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }

    /// A link to the page of days starting at `date`, keeping the zone and
    /// the token.
    fn days_link(&self, date: &str) -> String {
        let mut link = format!(
            "{}?time_zone={}&from={date}",
            self.mode.action(),
            urlencoding(&self.form.time_zone)
        );
        if let Some(token) = self.mode.token() {
            link.push_str("&token=");
            link.push_str(&urlencoding(token));
        }
        link
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
fn urlencoding(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ZoneQuery {
    time_zone: String,
    /// The first day shown, `YYYY-MM-DD` (the "later dates" link).
    from: String,
}

/// The open slots at `now`, one per start time (the earliest-listed staff
/// member takes it), grouped by day in `zone`; each marked when it falls
/// inside `windows` on the person's clock (`person_zone`).
async fn open_days(
    state: &AppState,
    now: Timestamp,
    zone: &TimeZone,
    windows: Option<(&[ContactWindow], &TimeZone)>,
) -> Result<Vec<SlotDay>, AppError> {
    let clinic = &state.clinic_zone;
    let schedule = state.store.booking_schedule().await?;
    let horizon = now + SignedDuration::from_hours(24 * (BOOKING_DAYS + 1));
    let taken = state.store.taken_slots(now, horizon).await?;
    let mut days: Vec<SlotDay> = Vec::new();
    let mut last_start = None;
    for slot in booking::open_slots(&schedule, clinic, now, BOOKING_DAYS, &taken) {
        if last_start == Some(slot.starts_at) {
            continue;
        }
        last_start = Some(slot.starts_at);
        let local = slot.starts_at.to_zoned(zone.clone());
        let date = local.date().to_string();
        let choice = SlotChoice {
            key: slot.key(),
            label: local.strftime("%-I:%M %p").to_string(),
            in_window: windows.is_some_and(|(windows, tz)| {
                respite_domain::callbacks::within_windows(windows, tz, slot.starts_at)
            }),
        };
        match days.last_mut() {
            Some(last) if last.date == date => last.slots.push(choice),
            _ => days.push(SlotDay {
                label: local.strftime("%A %-d %B").to_string(),
                date,
                slots: vec![choice],
            }),
        }
    }
    Ok(days)
}

/// One page of days: those from `from` (the first day when it is empty or
/// not a day with times), at most [`DAYS_PER_PAGE`], with the first day of
/// the earlier and of the later page.
fn page_of_days(
    mut days: Vec<SlotDay>,
    from: &str,
) -> (Vec<SlotDay>, Option<String>, Option<String>) {
    let first = days
        .iter()
        .position(|d| d.date.as_str() >= from.trim())
        .unwrap_or(0);
    let first = if from.trim().is_empty() { 0 } else { first };
    let earlier = (first > 0).then(|| days[first.saturating_sub(DAYS_PER_PAGE)].date.clone());
    let later = days.get(first + DAYS_PER_PAGE).map(|d| d.date.clone());
    let shown: Vec<SlotDay> = days.drain(first..).take(DAYS_PER_PAGE).collect();
    (shown, earlier, later)
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
    mode: BookMode,
    from: &str,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (name, tz) = person_zone(state, &form.time_zone);
    let form = BookingForm {
        time_zone: name.clone(),
        ..form
    };
    // A form shown again keeps the chosen time in view: its day's page.
    let chosen_day = Slot::parse(&form.slot)
        .map(|slot| slot.starts_at.to_zoned(tz.clone()).date().to_string())
        .unwrap_or_default();
    let from = if from.is_empty() { &chosen_day } else { from };
    let (days, earlier, later) = page_of_days(open_days(state, page.now, &tz, None).await?, from);
    render_with(
        status,
        &BookPage {
            clinic_name: &page.clinic_name,
            clinic: &page.clinic,
            csrf: &page.csrf,
            days,
            time_zones: zone_list(&name),
            form,
            errors,
            mode,
            earlier,
            later,
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
    book_page(
        &state,
        &page,
        form,
        Vec::new(),
        BookMode::New,
        &query.from,
        StatusCode::OK,
    )
    .await
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
        async move { book_page(&state, &page, form, errors, BookMode::New, "", status).await }
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
    from: String,
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
    cancelled: bool,
    /// The page answers the person's own cancellation just now.
    just_cancelled: bool,
    status: &'static str,
}

/// The confirmation page of `record` (booked, or cancelled with the way to
/// book again).
fn booking_view(
    state: &AppState,
    page: &PublicPage,
    token: &str,
    record: ConsultationRecord,
    just_cancelled: bool,
) -> Result<Response, AppError> {
    let id = record.id.to_string();
    let (person_zone, person_tz) = person_zone(state, &record.time_zone);
    let format = "%A %-d %B %Y, %-I:%M %p %Z";
    let mut response = render(&BookingPage {
        clinic_name: &page.clinic_name,
        clinic: &page.clinic,
        csrf: &page.csrf,
        token,
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
        cancelled: record.status == ConsultationStatus::Cancelled,
        just_cancelled,
        status: crate::words::booking::consultation_status_for_person(record.status),
        record,
    })?;
    response.extensions_mut().insert(AuditedRecord(id));
    Ok(response)
}

/// `GET /consultations/booking?token=…`: the confirmation, and the place to
/// reschedule or cancel; after a cancellation, the way to book again.
pub async fn booking_page(
    State(state): State<AppState>,
    page: PublicPage,
    Query(input): Query<TokenInput>,
) -> Result<Response, AppError> {
    let record = from_token(&state, page.now, &input.token).await?;
    booking_view(&state, &page, &input.token, record, false)
}

/// `POST /consultations/booking/cancel`: the person cancels by their link.
/// The page that answers is the cancelled confirmation, in the clinic's
/// own frame, with a way to book a new time.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: PublicPage,
    Form(input): Form<TokenInput>,
) -> Result<Response, AppError> {
    let now = page.now;
    let record = from_token(&state, now, &input.token).await?;
    let jobs = crate::jobs::cancellation_jobs(&state.config, &record, now, false);
    if !state
        .store
        .stamped(&audit)
        .cancel_consultation(record.id, ChangedBy::Person, now, &jobs)
        .await?
    {
        return Err(AppError::BadRequest {
            field: "token",
            message: "this consultation is no longer booked, so it cannot be cancelled".into(),
        });
    }
    let record = state
        .store
        .consultation(record.id)
        .await?
        .ok_or(AppError::NotFound)?;
    booking_view(&state, &page, &input.token, record, true)
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
        time_zone: if input.time_zone.is_empty() {
            record.time_zone
        } else {
            input.time_zone
        },
        ..BookingForm::default()
    };
    book_page(
        &state,
        &page,
        form,
        Vec::new(),
        BookMode::Reschedule(input.token),
        &input.from,
        StatusCode::OK,
    )
    .await
}

/// The booking a moved or repeated consultation makes for the same
/// person: their thread's name, addresses and zone, at `slot`.
fn same_person_booking(record: &ConsultationRecord, time_zone: &str, slot: Slot) -> NewBooking {
    NewBooking {
        name: record.name.clone(),
        phone: record
            .phone_e164
            .as_deref()
            .and_then(|p| PhoneNumber::from_e164(p).ok()),
        email: record.email.as_deref().and_then(|e| Email::parse(e).ok()),
        time_zone: if time_zone.is_empty() {
            record.time_zone.clone()
        } else {
            time_zone.to_owned()
        },
        slot,
    }
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
        let mode = BookMode::Reschedule(input.token.clone());
        let form = form.clone();
        async move { book_page(&state, &page, form, vec![error], mode, "", status).await }
    };
    let slot = match Slot::parse(&input.slot) {
        Ok(slot) => slot,
        Err(err) => return refuse(err, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if let Err(err) = offered(&state, now, slot).await? {
        return refuse(err, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let moved = same_person_booking(&record, &record.time_zone, slot);
    let jobs = crate::jobs::booking_jobs(&state.config, record.id, &moved, now);
    match state
        .store
        .stamped(&audit)
        .reschedule_consultation(record.id, slot, ChangedBy::Person, now, &jobs)
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
    confirmed(&state, record.id, &moved).await
}

/// The cancelled consultation a link names, for booking again: refused
/// unless it is cancelled.
async fn cancelled_from_token(
    state: &AppState,
    now: Timestamp,
    token: &str,
) -> Result<ConsultationRecord, AppError> {
    let record = from_token(state, now, token).await?;
    if record.status != ConsultationStatus::Cancelled {
        return Err(AppError::BadRequest {
            field: "token",
            message: "this consultation is not cancelled: change it from its confirmation page"
                .into(),
        });
    }
    Ok(record)
}

/// `GET /consultations/booking/again?token=…`: after a cancellation, the
/// open times to book a new consultation for the same person and thread.
pub async fn again_form(
    State(state): State<AppState>,
    page: PublicPage,
    Query(input): Query<TokenInput>,
) -> Result<Response, AppError> {
    let record = cancelled_from_token(&state, page.now, &input.token).await?;
    let form = BookingForm {
        name: record.name,
        time_zone: if input.time_zone.is_empty() {
            record.time_zone
        } else {
            input.time_zone
        },
        ..BookingForm::default()
    };
    book_page(
        &state,
        &page,
        form,
        Vec::new(),
        BookMode::Again(input.token),
        &input.from,
        StatusCode::OK,
    )
    .await
}

/// `POST /consultations/booking/again`: books a new consultation in the
/// thread of the cancelled one its link names.
pub async fn again(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: PublicPage,
    client: crate::client::ClientAddress,
    Form(input): Form<TokenInput>,
) -> Result<Response, AppError> {
    let now = page.now;
    let record = cancelled_from_token(&state, now, &input.token).await?;
    let Some(inquiry_id) = record.inquiry_id else {
        return Err(AppError::NotFound);
    };
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
        let mode = BookMode::Again(input.token.clone());
        let form = form.clone();
        async move { book_page(&state, &page, form, vec![error], mode, "", status).await }
    };
    if record.phone_e164.is_none() {
        let error = FieldError {
            field: "phone",
            message: "we have no phone number to call you on: please call the clinic, or leave \
                      your number with the message form on the clinic page"
                .into(),
        };
        return refuse(error, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let slot = match Slot::parse(&input.slot) {
        Ok(slot) => slot,
        Err(err) => return refuse(err, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if let Err(err) = offered(&state, now, slot).await? {
        return refuse(err, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let booking = same_person_booking(&record, &form.time_zone, slot);
    let source = client.to_string();
    let booker = Booker::Again {
        inquiry_id,
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
        Err(StoreError::AlreadyBooked { .. }) => {
            let error = FieldError {
                field: "slot",
                message: "you have booked a new time already: use the link of its confirmation \
                          to change it"
                    .into(),
            };
            refuse(error, StatusCode::CONFLICT).await
        }
        Err(StoreError::TooManyBookingsFromSource { limit }) => {
            let error = FieldError {
                field: "source",
                message: format!(
                    "this connection has made {limit} bookings in the last 24 hours, the most \
                     the clinic accepts; please call the clinic to book"
                ),
            };
            refuse(error, StatusCode::TOO_MANY_REQUESTS).await
        }
        Err(StoreError::InquiryClosed) => {
            let error = FieldError {
                field: "token",
                message: "please call the clinic or write to us on the clinic page to book again"
                    .into(),
            };
            refuse(error, StatusCode::CONFLICT).await
        }
        Err(err) => match crate::error::conflict(&err) {
            Some((field, message)) => {
                refuse(FieldError { field, message }, StatusCode::CONFLICT).await
            }
            None => Err(err.into()),
        },
    }
}

// ---- Staff -----------------------------------------------------------------

/// A consultation row on staff pages.
pub struct StaffRow {
    pub record: ConsultationRecord,
    pub clinic_time: String,
    /// The time of day alone (clinic time), for lists grouped by day.
    pub clinic_clock: String,
    pub status: &'static str,
    pub can_mark_no_show: bool,
    /// Booked and not over: it can be moved or cancelled.
    pub can_change: bool,
}

fn staff_rows(page: &StaffPage, records: Vec<ConsultationRecord>) -> Vec<StaffRow> {
    records
        .into_iter()
        .map(|record| StaffRow {
            clinic_time: page.time(record.starts_at),
            clinic_clock: record
                .starts_at
                .to_zoned(page.zone.clone())
                .strftime("%H:%M")
                .to_string(),
            status: crate::words::common::consultation_status(record.status),
            can_mark_no_show: record.status == ConsultationStatus::Booked
                && record.starts_at <= page.now,
            can_change: record.status == ConsultationStatus::Booked,
            record,
        })
        .collect()
}

/// The person's best-time windows and zone, as stored on their inquiry
/// (none when unreadable: nothing is marked, nothing warned).
fn windows_of(contact_windows: &str, time_zone: &str) -> Option<(Vec<ContactWindow>, TimeZone)> {
    let windows = respite_domain::callbacks::parse_windows(contact_windows).ok()?;
    let tz = TimeZone::get(time_zone).ok()?;
    (!windows.is_empty()).then_some((windows, tz))
}

/// The consultations of an inquiry and the times staff can book (marked
/// inside the person's windows), for the inquiry page.
pub async fn for_inquiry(
    state: &AppState,
    page: &StaffPage,
    inquiry: &respite_store::InquiryRecord,
) -> Result<(Vec<StaffRow>, Vec<SlotDay>), AppError> {
    let records = state.store.consultations_of_inquiry(inquiry.id).await?;
    let windows = windows_of(&inquiry.contact_windows, &inquiry.time_zone);
    let marks = windows.as_ref().map(|(w, tz)| (w.as_slice(), tz));
    Ok((
        staff_rows(page, records),
        open_days(state, page.now, &page.zone, marks).await?,
    ))
}

/// What the consultation list shows.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    /// `today`, `day`, `week`; anything else: everything from yesterday on.
    view: String,
    /// The day (or a day of the week) shown, `YYYY-MM-DD`; default today.
    date: String,
    /// One staff member's id; empty: everyone.
    staff: String,
    /// The last row of the previous page, `STARTMS.ID`.
    after: String,
}

/// A staff member the list can show alone.
pub struct StaffChoice {
    pub id: i64,
    pub name: String,
    pub selected: bool,
}

/// The rows of one day of the list.
pub struct ListDay {
    pub label: String,
    pub rows: Vec<StaffRow>,
}

#[derive(Template)]
#[template(path = "staff_consultations.html")]
struct StaffListPage {
    nav: Nav,
    days: Vec<ListDay>,
    count: usize,
    can_write: bool,
    clinic_zone: String,
    /// The address of this staff member's own calendar feed.
    feed: String,
    view: &'static str,
    heading: String,
    date: String,
    staff: Vec<StaffChoice>,
    staff_id: String,
    previous: Option<String>,
    next: Option<String>,
    next_page: Option<String>,
}

/// Rows per page of the list from yesterday on.
const LIST_PAGE: i64 = 50;

/// `GET /staff/consultations`: every consultation from yesterday on (paged),
/// or one day, today, or one week (Monday to Sunday, clinic time), for
/// everyone or one staff member, grouped by day.
pub async fn staff_list(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let today = page.today();
    let date = match query.date.trim() {
        "" => today,
        text => text
            .parse::<jiff::civil::Date>()
            .map_err(|_| AppError::BadRequest {
                field: "date",
                message: "must be a date such as 2026-11-30".into(),
            })?,
    };
    let staff_id = match query.staff.trim() {
        "" => None,
        text => Some(parse_id(text)?),
    };
    let (view, first, days) = match query.view.as_str() {
        "today" => ("today", today, Some(1)),
        "day" => ("day", date, Some(1)),
        "week" => {
            let monday = date
                .checked_sub(
                    jiff::Span::new().days(i64::from(date.weekday().to_monday_zero_offset())),
                )
                .unwrap_or(date);
            ("week", monday, Some(7))
        }
        _ => ("all", today, None),
    };
    let start_of = |day: jiff::civil::Date| -> Result<Timestamp, AppError> {
        Ok(day
            .to_zoned(page.zone.clone())
            .map_err(|_| AppError::Internal("a clinic day out of range"))?
            .timestamp())
    };
    let (from, to, limit, after) = match days {
        Some(n) => {
            let end = first
                .checked_add(jiff::Span::new().days(n))
                .map_err(|_| AppError::Internal("a clinic day out of range"))?;
            (start_of(first)?, start_of(end)?, 2000, None)
        }
        None => {
            let after = match query.after.split_once('.') {
                Some((at, id)) => Some((
                    at.parse::<i64>()
                        .ok()
                        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                        .ok_or(AppError::BadRequest {
                            field: "after",
                            message: "not a page of this list".into(),
                        })?,
                    parse_id(id)?,
                )),
                None => None,
            };
            (
                page.now - SignedDuration::from_hours(24),
                Timestamp::MAX,
                LIST_PAGE,
                after,
            )
        }
    };
    let records = state
        .store
        .consultations_page(&ConsultationFilter {
            from,
            to,
            staff_user_id: staff_id,
            after,
            limit,
        })
        .await?;
    let staff_param = staff_id.map(|id| id.to_string()).unwrap_or_default();
    let next_page = (days.is_none() && records.len() as i64 == LIST_PAGE)
        .then(|| records.last())
        .flatten()
        .map(|last| {
            format!(
                "/staff/consultations?staff={staff_param}&after={}.{}",
                last.starts_at.as_millisecond(),
                last.id
            )
        });
    let count = records.len();
    let mut grouped: Vec<ListDay> = Vec::new();
    for row in staff_rows(&page, records) {
        let label = row
            .record
            .starts_at
            .to_zoned(page.zone.clone())
            .strftime("%A %-d %B %Y")
            .to_string();
        match grouped.last_mut() {
            Some(day) if day.label == label => day.rows.push(row),
            _ => grouped.push(ListDay {
                label,
                rows: vec![row],
            }),
        }
    }
    // The neighbouring day or week; from "today" the neighbours are days.
    let step = |n: i64, shown: &str| {
        first
            .checked_add(jiff::Span::new().days(n))
            .ok()
            .map(|d| format!("/staff/consultations?view={shown}&date={d}&staff={staff_param}"))
    };
    let (previous, next) = match view {
        "day" | "today" => (step(-1, "day"), step(1, "day")),
        "week" => (step(-7, "week"), step(7, "week")),
        _ => (None, None),
    };
    let heading = match view {
        "today" => format!("Today, {}", first.strftime("%A %-d %B")),
        "day" => first.strftime("%A %-d %B %Y").to_string(),
        "week" => format!("Week of Monday {}", first.strftime("%-d %B %Y")),
        _ => "From yesterday on".to_owned(),
    };
    let staff = state
        .store
        .staff_users()
        .await?
        .into_iter()
        .filter(|u| u.active && u.role.takes_consultations())
        .map(|u| StaffChoice {
            selected: Some(u.id) == staff_id,
            id: u.id,
            name: u.display_name,
        })
        .collect();
    let feed = state
        .store
        .calendar_secret(page.session.user.id, &crate::auth::random_hex(24))
        .await?;
    render(&StaffListPage {
        nav: page.nav(),
        days: grouped,
        count,
        can_write: page.may(Permission::WriteInquiries),
        clinic_zone: state.config.clinic_time_zone.clone(),
        feed: format!("/ical/{feed}.ics"),
        view,
        heading,
        date: first.to_string(),
        staff,
        staff_id: staff_param,
        previous,
        next,
        next_page,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StaffBookingInput {
    slot: String,
    /// `yes`: staff saw that the time is outside the person's best times
    /// and book it anyway.
    outside_ok: String,
}

#[derive(Template)]
#[template(path = "staff_outside_windows.html")]
struct OutsideWindowsPage {
    nav: Nav,
    action: String,
    back: String,
    slot: String,
    name: String,
    person_time: String,
    clinic_time: String,
    windows: String,
    time_zone: String,
    verb: &'static str,
}

/// When staff chose a time outside the person's best-time windows and did
/// not confirm it: the page that says so and asks (no script needed).
fn outside_windows(
    page: &StaffPage,
    inquiry: &respite_store::InquiryRecord,
    slot: Slot,
    confirmed: bool,
    action: String,
    back: String,
    verb: &'static str,
) -> Result<Option<Response>, AppError> {
    let Some((windows, tz)) = windows_of(&inquiry.contact_windows, &inquiry.time_zone) else {
        return Ok(None);
    };
    if confirmed || respite_domain::callbacks::within_windows(&windows, &tz, slot.starts_at) {
        return Ok(None);
    }
    let response = render_with(
        StatusCode::CONFLICT,
        &OutsideWindowsPage {
            nav: page.nav(),
            action,
            back,
            slot: slot.key(),
            name: inquiry.name.clone(),
            person_time: slot
                .starts_at
                .to_zoned(tz)
                .strftime("%A %-d %B, %-I:%M %p %Z")
                .to_string(),
            clinic_time: page.time(slot.starts_at),
            windows: crate::words::common::windows(&inquiry.contact_windows),
            time_zone: inquiry.time_zone.clone(),
            verb,
        },
    )?;
    Ok(Some(response))
}

/// The phone number a staff booking calls; refused, naming `phone`, when
/// the thread has none.
fn phone_to_call(phone_e164: Option<&str>) -> Result<PhoneNumber, AppError> {
    phone_e164
        .and_then(|p| PhoneNumber::from_e164(p).ok())
        .ok_or(AppError::BadRequest {
            field: "phone",
            message: "this person has no phone number on file, and the consultation is a phone \
                      call: confirm a number with them first (by e-mail or text)"
                .into(),
        })
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
    let phone = phone_to_call(inquiry.phone_e164.as_deref())?;
    if let Some(warning) = outside_windows(
        &page,
        &inquiry,
        slot,
        input.outside_ok == "yes",
        format!("/staff/inquiries/{inquiry_id}/consultations"),
        format!("/staff/inquiries/{inquiry_id}"),
        "Book",
    )? {
        return Ok(warning);
    }
    let booking = NewBooking {
        name: inquiry.name.clone(),
        phone: Some(phone),
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

/// The consultation a staff route's path names.
async fn load_consultation(state: &AppState, id: &str) -> Result<ConsultationRecord, AppError> {
    let id = parse_id(id)?;
    state
        .store
        .consultation(id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Where staff go back to after changing a consultation: its page.
fn back_to(record: &ConsultationRecord) -> Response {
    Redirect::to(&format!("/staff/consultations/{}", record.id)).into_response()
}

#[derive(Template)]
#[template(path = "staff_consultation.html")]
struct StaffConsultationPage {
    nav: Nav,
    row: StaffRow,
    person_time: String,
    can_write: bool,
    can_hold: bool,
    slot_days: Vec<SlotDay>,
    has_windows: bool,
    windows: String,
    events: Vec<String>,
    errors: Vec<FieldError>,
}

impl StaffConsultationPage {
    fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

/// `GET /staff/consultations/{id}`: one consultation, and what staff can do
/// with it: move it, cancel it (with a reason), mark it held or missed.
pub async fn staff_consultation(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let record = load_consultation(&state, &id).await?;
    consultation_view(&state, &page, record, Vec::new(), StatusCode::OK).await
}

async fn consultation_view(
    state: &AppState,
    page: &StaffPage,
    record: ConsultationRecord,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let inquiry = match record.inquiry_id {
        Some(id) => state.store.inquiry(id).await?,
        None => None,
    };
    let windows = inquiry
        .as_ref()
        .and_then(|i| windows_of(&i.contact_windows, &i.time_zone));
    let marks = windows.as_ref().map(|(w, tz)| (w.as_slice(), tz));
    let booked = record.status == ConsultationStatus::Booked;
    let slot_days = if booked && page.may(Permission::WriteInquiries) {
        open_days(state, page.now, &page.zone, marks).await?
    } else {
        Vec::new()
    };
    let events = match record.inquiry_id {
        Some(inquiry_id) => state
            .store
            .consultation_events(inquiry_id)
            .await?
            .into_iter()
            .filter(|e| e.consultation_id == record.id)
            .map(|e| format!("{}: {}", page.time(e.at), event_words(page, &e)))
            .collect(),
        None => Vec::new(),
    };
    let person_time = TimeZone::get(&record.time_zone)
        .map(|tz| {
            record
                .starts_at
                .to_zoned(tz)
                .strftime("%A %-d %B, %-I:%M %p %Z")
                .to_string()
        })
        .unwrap_or_default();
    let can_hold =
        booked && record.starts_at <= page.now + SignedDuration::from_mins(booking::SLOT_MINUTES);
    let id = record.id.to_string();
    let mut response = render_with(
        status,
        &StaffConsultationPage {
            nav: page.nav(),
            person_time,
            can_write: page.may(Permission::WriteInquiries),
            can_hold,
            slot_days,
            has_windows: windows.is_some(),
            windows: inquiry
                .as_ref()
                .map(|i| match i.contact_windows.as_str() {
                    "" => "not given".to_owned(),
                    windows => format!(
                        "{} ({})",
                        crate::words::common::windows(windows),
                        i.time_zone
                    ),
                })
                .unwrap_or_default(),
            events,
            errors,
            row: staff_rows(page, vec![record])
                .pop()
                .ok_or(AppError::Internal("a consultation row vanished"))?,
        },
    )?;
    response.extensions_mut().insert(AuditedRecord(id));
    Ok(response)
}

/// A consultation event in words, times on the clinic's clock.
pub fn event_words(page: &StaffPage, event: &ConsultationEventRecord) -> String {
    crate::words::booking::consultation_event(
        event.kind,
        event.staff_name.as_deref(),
        &page.time(event.starts_at),
        event.previous_starts_at.map(|at| page.time(at)).as_deref(),
    ) + &if event.reason.is_empty() {
        String::new()
    } else {
        format!(". Reason: {}", event.reason)
    }
}

/// `POST /staff/consultations/{id}/move`: to a free slot (the unique index
/// decides, as for a booking), with a new confirmation to the person.
pub async fn staff_move(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<StaffBookingInput>,
) -> Result<Response, AppError> {
    let record = load_consultation(&state, &id).await?;
    let slot = Slot::parse(&input.slot)?;
    offered(&state, page.now, slot).await??;
    if let Some(inquiry) = match record.inquiry_id {
        Some(id) => state.store.inquiry(id).await?,
        None => None,
    } {
        if let Some(warning) = outside_windows(
            &page,
            &inquiry,
            slot,
            input.outside_ok == "yes",
            format!("/staff/consultations/{}/move", record.id),
            format!("/staff/consultations/{}", record.id),
            "Move",
        )? {
            return Ok(warning);
        }
    }
    let now = page.now;
    let moved = same_person_booking(&record, &record.time_zone, slot);
    let jobs = crate::jobs::booking_jobs(&state.config, record.id, &moved, now);
    let by = ChangedBy::Staff {
        staff_user_id: page.session.user.id,
        reason: "",
    };
    if !state
        .store
        .stamped(&audit)
        .reschedule_consultation(record.id, slot, by, now, &jobs)
        .await?
    {
        return Err(AppError::BadRequest {
            field: "status",
            message: "only a booked consultation can be moved".into(),
        });
    }
    Ok(back_to(&record))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CancelInput {
    reason: String,
}

/// `POST /staff/consultations/{id}/cancel`: with a reason; the person is
/// told by text and e-mail (with the cancelled `.ics`) through the job
/// queue, and the thread waits for a call to find a new time.
pub async fn staff_cancel(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(input): Form<CancelInput>,
) -> Result<Response, AppError> {
    let record = load_consultation(&state, &id).await?;
    let reason = match booking::cancel_reason(&input.reason) {
        Ok(reason) => reason,
        Err(error) => {
            return consultation_view(
                &state,
                &page,
                record,
                vec![error],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let now = page.now;
    let jobs = crate::jobs::cancellation_jobs(&state.config, &record, now, true);
    let by = ChangedBy::Staff {
        staff_user_id: page.session.user.id,
        reason: &reason,
    };
    if !state
        .store
        .stamped(&audit)
        .cancel_consultation(record.id, by, now, &jobs)
        .await?
    {
        return Err(AppError::BadRequest {
            field: "status",
            message: "only a booked consultation can be cancelled".into(),
        });
    }
    Ok(back_to(&record))
}

/// `POST /staff/consultations/{id}/held`: the call took place; the
/// consultation note is next.
pub async fn staff_held(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let record = load_consultation(&state, &id).await?;
    if !state
        .store
        .stamped(&audit)
        .mark_held(record.id, page.session.user.id, page.now)
        .await?
    {
        return Err(AppError::BadRequest {
            field: "status",
            message: "only a booked consultation that begins within 15 minutes or has begun can \
                      be marked held"
                .into(),
        });
    }
    let next = match record.inquiry_id {
        Some(inquiry) => format!("/staff/inquiries/{inquiry}/consultation"),
        None => format!("/staff/consultations/{}", record.id),
    };
    Ok(Redirect::to(&next).into_response())
}

/// `POST /staff/consultations/{id}/no-show`: the person was not reached at
/// a consultation that has begun; a callback follows.
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
        .mark_no_show(id, page.session.user.id, page.now)
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
            sequence: record.sequence,
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
