//! The staff application: the inquiry queue, the patient list and the chart.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use respite_domain::{Email, Permission, PhoneNumber};
use respite_store::{
    AuditStamp, ConditionRecord, InfusionSessionRecord, InquiryQuery, InquiryRecord, InquiryStatus,
    MessageRecord, ObservationRecord, PatientQuery, PatientRecord, PatientSummary,
};
use serde::Deserialize;

use super::lists::{Cursor, Pager};
use super::{load_inquiry, parse_id, render, Nav, StaffPage};
use crate::access::AuditedRecord;
use crate::email::SendEmailError;
use crate::sms::{send_text, SendError};
use crate::words::lists as words;
use crate::{AppError, AppState};

/// An inquiry as the queue shows it.
pub struct InquiryRow {
    pub record: InquiryRecord,
    pub received: String,
}

/// One tab of the queue: a status, its words, how many, and whether shown.
pub struct QueueTab {
    pub href: String,
    pub label: &'static str,
    pub count: i64,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "staff_home.html")]
struct StaffHome {
    nav: Nav,
    heading: &'static str,
    tabs: Vec<QueueTab>,
    status: String,
    query: String,
    rows: Vec<InquiryRow>,
    pager: Pager,
    /// The open statuses show best times; booked and closed do not.
    open: bool,
}

/// The queue's query string: a status tab, a search, the cursor.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueueQuery {
    status: String,
    q: String,
    after: String,
    before: String,
}

/// Rows per page of the staff lists.
pub const LIST_PAGE_SIZE: i64 = 25;

/// The longest search anyone types; the rest is cut.
const SEARCH_MAX_CHARS: usize = 100;

/// `GET /staff`: the inquiry queue, one status at a time (new by default),
/// searchable by name, e-mail or phone, paged.
pub async fn home(
    State(state): State<AppState>,
    page: StaffPage,
    Query(query): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let status = match query.status.trim() {
        "" => InquiryStatus::New,
        typed => InquiryStatus::parse(typed).ok_or(AppError::BadRequest {
            field: "status",
            message: "choose one of the queue's tabs".into(),
        })?,
    };
    let text: String = query.q.trim().chars().take(SEARCH_MAX_CHARS).collect();
    let at = Cursor {
        after: query.after,
        before: query.before,
    }
    .page_at()?;
    let found = state
        .store
        .inquiry_page(
            &InquiryQuery {
                status,
                text: text.clone(),
            },
            at,
            LIST_PAGE_SIZE,
        )
        .await?;
    let ids = found
        .rows
        .first()
        .zip(found.rows.last())
        .map(|(a, b)| (a.id, b.id));
    let pager = Pager::new(
        &found,
        ids,
        "/staff",
        &[("status", status.as_str()), ("q", &text)],
        "inquiry",
        "inquiries",
    );
    let counts = state.store.inquiry_counts().await?;
    let tabs = InquiryStatus::ALL
        .into_iter()
        .map(|tab| QueueTab {
            href: format!("/staff?status={}", tab.as_str()),
            label: words::queue_tab(tab),
            count: counts
                .iter()
                .find(|(s, _)| *s == tab)
                .map_or(0, |(_, n)| *n),
            current: tab == status,
        })
        .collect();
    let rows = found
        .rows
        .into_iter()
        .map(|record| InquiryRow {
            received: page.time(record.received_at),
            record,
        })
        .collect();
    render(&StaffHome {
        nav: page.nav(),
        heading: words::queue_heading(status),
        tabs,
        status: status.as_str().to_owned(),
        query: text,
        rows,
        pager,
        open: status.awaits_contact(),
    })
}

#[derive(Template)]
#[template(path = "inquiry.html")]
struct InquiryPage {
    nav: Nav,
    inquiry: InquiryRow,
    chart: Option<respite_store::ConvertedChart>,
    can_consult: bool,
    can_convert: bool,
    thread: Vec<ThreadRow>,
    /// May this staff member text the person from this page.
    can_text: bool,
    /// The inquiry's phone consultations, and the times staff can book.
    consultations: Vec<super::consultations::StaffRow>,
    slot_days: Vec<super::consultations::SlotDay>,
    can_email: bool,
    /// Addresses contacts brought that staff have not confirmed.
    unverified: Vec<respite_store::UnverifiedContact>,
    /// The latest version of the consultation call's record, in words:
    /// (reached, booked, what was asked). No clinical content (SPEC §2).
    call: Option<(&'static str, &'static str, String)>,
    /// Where the pain is and for how long, in words ("not given").
    pain: String,
    /// Why someone must call the person back now, if a callback is open.
    open_callback: Option<&'static str>,
}

/// One entry of a thread, as the inquiry page lists it: a message or call
/// of the person's, one of ours, or a staff member's attempt to reach them.
pub struct ThreadRow {
    pub at: jiff::Timestamp,
    pub when: String,
    pub item: ThreadItem,
}

pub enum ThreadItem {
    Message(MessageRecord),
    Attempt(respite_store::ContactAttemptRecord),
    /// A consultation booked, moved, cancelled, missed or held, in words.
    Consultation {
        consultation_id: i64,
        kind: &'static str,
        words: String,
    },
}

pub async fn inquiry(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let record = load_inquiry(&state, &id).await?;
    let id = record.id;
    let received = page.time(record.received_at);
    let attempts = state.store.contact_attempts(id).await?;
    // Messages, calls and attempts, in the order they happened.
    let messages = state.store.thread_messages(id).await?;
    let mut thread: Vec<ThreadRow> = messages
        .into_iter()
        .map(|record| ThreadRow {
            at: record.at,
            when: page.time(record.at),
            item: ThreadItem::Message(record),
        })
        .chain(attempts.into_iter().map(|attempt| ThreadRow {
            at: attempt.at,
            when: page.time(attempt.at),
            item: ThreadItem::Attempt(attempt),
        }))
        .chain(
            state
                .store
                .consultation_events(id)
                .await?
                .into_iter()
                .map(|event| ThreadRow {
                    at: event.at,
                    when: page.time(event.at),
                    item: ThreadItem::Consultation {
                        consultation_id: event.consultation_id,
                        kind: event.kind.as_str(),
                        words: super::consultations::event_words(&page, &event),
                    },
                }),
        )
        .collect();
    thread.sort_by_key(|row| row.at);
    let can_text = page.may(Permission::WriteInquiries) && record.phone_e164.is_some();
    let (consultations, slot_days) =
        super::consultations::for_inquiry(&state, &page, &record).await?;
    let can_email = page.may(Permission::WriteInquiries)
        && record.email.is_some()
        && state.config.smtp.is_some();
    let open_callback = state.store.open_callback_of(id).await?;
    render(&InquiryPage {
        nav: page.nav(),
        pain: format!(
            "{}, {}",
            crate::words::common::pain_area(record.pain_area.as_deref()),
            crate::words::common::pain_duration(record.pain_duration.as_deref())
        ),
        open_callback: open_callback.map(crate::words::common::callback_reason),
        inquiry: InquiryRow { record, received },
        chart: state.store.inquiry_chart(id).await?,
        can_consult: page.may(Permission::WriteInquiries),
        can_convert: page.may(Permission::WriteClinicalRecords),
        thread,
        can_text,
        consultations,
        slot_days,
        can_email,
        unverified: state.store.unverified_contacts(id).await?,
        call: state
            .store
            .consultation_calls(id)
            .await?
            .into_iter()
            .next()
            .map(|c| {
                (
                    crate::words::notes::yes_no(c.reached),
                    crate::words::notes::yes_no(c.booked),
                    c.asked,
                )
            }),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VerifyContactForm {
    contact: String,
}

/// `POST /staff/inquiries/{id}/verify-contact`: staff confirmed an
/// unverified address with the person on a call. It becomes the thread's
/// address with consent (recorded with who and when); the audit names the
/// inquiry.
pub async fn verify_contact(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<VerifyContactForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let contact = form
        .contact
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::BadRequest {
            field: "contact",
            message: "must name one of the inquiry's unverified addresses".into(),
        })?;
    state
        .store
        .stamped(&audit)
        .verify_contact(id, contact, page.session.user.id, page.now)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut response = Redirect::to(&format!("/staff/inquiries/{id}")).into_response();
    response
        .extensions_mut()
        .insert(AuditedRecord(id.to_string()));
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TextForm {
    body: String,
}

/// Back to the inquiry after a message went out, the audit naming the
/// stored message.
fn sent(inquiry_id: i64, message_id: i64) -> Response {
    let mut response = Redirect::to(&format!("/staff/inquiries/{inquiry_id}")).into_response();
    response
        .extensions_mut()
        .insert(AuditedRecord(message_id.to_string()));
    response
}

/// `typed`, trimmed: refused, naming `field`, when empty (with `hint`) or
/// longer than `max` characters.
fn required_text<'a>(
    field: &'static str,
    typed: &'a str,
    max: usize,
    hint: &str,
) -> Result<&'a str, AppError> {
    let text = typed.trim();
    if text.is_empty() {
        return Err(AppError::BadRequest {
            field,
            message: format!("is required: {hint}"),
        });
    }
    if text.chars().count() > max {
        return Err(AppError::BadRequest {
            field,
            message: format!("must be at most {max} characters"),
        });
    }
    Ok(text)
}

/// The longest text we send: Twilio's limit for one message body.
const SMS_MAX_CHARS: usize = 1600;

/// Texts the person of an inquiry, if their number has not opted out and
/// consent to texts is recorded (`sms::send_text`).
pub async fn send_sms(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    _page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<TextForm>,
) -> Result<Response, AppError> {
    let record = load_inquiry(&state, &id).await?;
    let id = record.id;
    let body = required_text("body", &form.body, SMS_MAX_CHARS, "write the text to send")?;
    let phone = record
        .phone_e164
        .as_deref()
        .and_then(|p| PhoneNumber::from_e164(p).ok())
        .ok_or(AppError::BadRequest {
            field: "phone",
            message: "this inquiry has no phone number to text".into(),
        })?;
    match send_text(&state.stamped(&audit), id, &phone, body).await {
        Ok(message_id) => Ok(sent(id, message_id)),
        Err(err @ (SendError::OptedOut | SendError::NoConsent)) => {
            Err(AppError::NotSent(err.to_string()))
        }
        Err(SendError::Provider(err)) => {
            tracing::warn!(error = %err, "text not sent");
            Err(AppError::ProviderFailed(format!("sms: {err}")))
        }
        Err(SendError::Store(err)) => Err(err.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    subject: String,
    body: String,
}

/// The longest subject and e-mail body staff can send from the form.
const EMAIL_SUBJECT_MAX_CHARS: usize = 200;
const EMAIL_BODY_MAX_CHARS: usize = 20_000;

/// E-mails the person of an inquiry, if consent to e-mail is recorded
/// (`email::send_email`); the reply threads under their last e-mail.
pub async fn send_email(
    State(state): State<AppState>,
    Extension(audit): Extension<AuditStamp>,
    _page: StaffPage,
    Path(id): Path<String>,
    Form(form): Form<EmailForm>,
) -> Result<Response, AppError> {
    let record = load_inquiry(&state, &id).await?;
    let id = record.id;
    let subject = required_text(
        "subject",
        &form.subject,
        EMAIL_SUBJECT_MAX_CHARS,
        "write the subject",
    )?;
    if subject.contains(['\r', '\n']) {
        return Err(AppError::BadRequest {
            field: "subject",
            message: "must be on one line".into(),
        });
    }
    let body = required_text(
        "body",
        &form.body,
        EMAIL_BODY_MAX_CHARS,
        "write the e-mail to send",
    )?;
    let to = record
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or(AppError::BadRequest {
            field: "email",
            message: "this inquiry has no e-mail address to write to".into(),
        })?;
    match crate::email::send_email(&state.stamped(&audit), id, &to, subject, body).await {
        Ok(message_id) => Ok(sent(id, message_id)),
        Err(err @ (SendEmailError::NoConsent | SendEmailError::NotConfigured)) => {
            Err(AppError::NotSent(err.to_string()))
        }
        Err(SendEmailError::Smtp(err)) => {
            tracing::warn!(error = %err, "e-mail not sent");
            Err(AppError::ProviderFailed(
                "email: the mail server did not accept the e-mail".into(),
            ))
        }
        Err(SendEmailError::Store(err)) => Err(err.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
    condition: String,
    after: String,
    before: String,
}

#[derive(Template)]
#[template(path = "patients.html")]
struct PatientsPage {
    nav: Nav,
    query: String,
    condition: String,
    patients: Vec<PatientSummary>,
    pager: Pager,
    /// Whether this role may search by condition (clinical records).
    by_condition: bool,
}

/// `GET /staff/patients`: the patient directory, by family name, paged;
/// searched by name, MRN, phone (any formatting, any part) and e-mail, and
/// — for the roles that read clinical records — by condition (SPEC §2: the
/// front desk sees contact data, and a list of who has which diagnosis is
/// clinical, so the front desk asking for it is refused and audited).
pub async fn patients(
    State(state): State<AppState>,
    page: StaffPage,
    Query(search): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let query: String = search.q.trim().chars().take(SEARCH_MAX_CHARS).collect();
    let condition: String = search
        .condition
        .trim()
        .chars()
        .take(SEARCH_MAX_CHARS)
        .collect();
    let by_condition = page.may(Permission::ReadClinicalRecords);
    if !condition.is_empty() && !by_condition {
        return Err(AppError::Forbidden {
            role: page.session.user.role.label(),
        });
    }
    let at = Cursor {
        after: search.after,
        before: search.before,
    }
    .page_at()?;
    let found = state
        .store
        .patient_page(
            &PatientQuery {
                text: query.clone(),
                condition_codes: condition_codes(&condition),
                condition: condition.clone(),
            },
            at,
            LIST_PAGE_SIZE,
        )
        .await?;
    let ids = found
        .rows
        .first()
        .zip(found.rows.last())
        .map(|(a, b)| (a.id, b.id));
    let pager = Pager::new(
        &found,
        ids,
        "/staff/patients",
        &[("q", &query), ("condition", &condition)],
        "patient",
        "patients",
    );
    render(&PatientsPage {
        nav: page.nav(),
        query,
        condition,
        patients: found.rows,
        pager,
        by_condition,
    })
}

/// The ICD-10-CM code prefixes of the clinic's code table whose condition
/// names contain `words` ("CRPS" → G90.5, G56.4, G57.7; "migraine" → G43),
/// so that a condition is found by the name staff use, not only by the
/// words of its stored display. The table is `respite-clinical`'s
/// (shared/clinical/codes.md).
fn condition_codes(words: &str) -> Vec<String> {
    use respite_clinical::screening::codes::{seeded_condition_codes, CodePattern};
    let words = words.trim().to_lowercase();
    if words.chars().count() < 3 {
        return Vec::new();
    }
    let mut codes = Vec::new();
    for entry in seeded_condition_codes() {
        if !entry.condition.to_lowercase().contains(&words) {
            continue;
        }
        match &entry.pattern {
            CodePattern::Prefix(prefix) => codes.push(prefix.to_string()),
            CodePattern::CategoryRange { from, to } => {
                codes.extend(category_range(from, to));
            }
            CodePattern::InjurySequela => {}
        }
    }
    codes.sort();
    codes.dedup();
    codes
}

/// The categories from `from` to `to` ("M15"–"M19"), same letter.
fn category_range(from: &str, to: &str) -> Vec<String> {
    let split = |code: &str| {
        let mut chars = code.chars();
        let letter = chars.next()?;
        let number: u32 = chars.as_str().parse().ok()?;
        Some((letter, number))
    };
    match (split(from), split(to)) {
        (Some((a, lo)), Some((b, hi))) if a == b && lo <= hi && hi - lo < 100 => {
            (lo..=hi).map(|n| format!("{a}{n:02}")).collect()
        }
        _ => Vec::new(),
    }
}

pub struct ObservationRow {
    pub record: ObservationRecord,
    pub when: String,
}

pub struct SessionRow {
    pub record: InfusionSessionRecord,
    pub when: String,
}

#[derive(Template)]
#[template(path = "patient.html")]
struct PatientPage {
    nav: Nav,
    /// The chart's tab shown as current (`chart_tabs.html`).
    tab: &'static str,
    patient: PatientRecord,
    conditions: Vec<ConditionRecord>,
    observations: Vec<ObservationRow>,
    sessions: Vec<SessionRow>,
    /// The phone consultation's notes, when the chart came from an inquiry.
    consultation: Vec<super::consultation_notes::NoteView>,
    /// Questionnaires, scores, safety alerts and the portal invitation.
    portal: super::portal_staff::PortalChart,
}

pub async fn patient_chart(
    State(state): State<AppState>,
    page: StaffPage,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let patient = state.store.patient(id).await?.ok_or(AppError::NotFound)?;
    let conditions = state.store.conditions(id).await?;
    let observations = state
        .store
        .observations(id, 40)
        .await?
        .into_iter()
        .map(|record| ObservationRow {
            when: page.time(record.observed_at),
            record,
        })
        .collect();
    let sessions = state
        .store
        .infusion_sessions(id)
        .await?
        .into_iter()
        .map(|record| SessionRow {
            when: page.time(record.started_at),
            record,
        })
        .collect();
    let consultation = state
        .store
        .consultation_notes_for_patient(id)
        .await?
        .into_iter()
        .map(|record| super::consultation_notes::NoteView::new(record, &page, &patient.time_zone))
        .collect();
    let portal = super::portal_staff::chart_section(&state, &page, id).await?;
    render(&PatientPage {
        nav: page.nav(),
        tab: "chart",
        portal,
        patient,
        conditions,
        observations,
        sessions,
        consultation,
    })
}
