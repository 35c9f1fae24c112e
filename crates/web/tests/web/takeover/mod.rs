//! Thread takeover: contact details from an unauthenticated way in (web
//! form, public booking, e-mail) never change where an existing thread's
//! messages go nor its consent. A new address is kept unverified, shown to
//! staff, used for nothing, until staff confirm it with the person on a
//! call (audited). Each attack on SQLite and PostgreSQL.

use std::sync::Arc;

use jiff::Timestamp;
use respite_domain::messaging::MessageChannel;
use respite_domain::{Email, PhoneNumber, Role};
use respite_store::{AuditFilter, ContactAddress, Engine, InboundMessage};
use respite_web::{Clock, WebConfig};

use crate::support::*;

/// Monday 23 November 2026, 08:00 PST at the clinic (Los Angeles).
const NOW: &str = "2026-11-23T16:00Z";
/// 10:00 PST that Monday.
const SLOT_AT: &str = "2026-11-23T18:00Z";
const ATTACKER_EMAIL: &str = "mallory@attacker.test";
const ATTACKER_PHONE: &str = "+15037259999";

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn config() -> WebConfig {
    WebConfig {
        clock: Clock::Fixed(at(NOW)),
        ..WebConfig::default()
    }
}

/// The app at [`NOW`], the front desk taking Monday mornings; their id.
async fn clinic(engine: Engine) -> (TestApp, i64) {
    let app = spawn_with(engine, config()).await;
    let staff = crate::booking::front_desk_takes_monday_mornings(&app).await;
    (app, staff)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&mut app.raw().await)
        .await
        .unwrap();
    n
}

async fn only_inquiry(app: &TestApp) -> i64 {
    assert_eq!(count(app, "SELECT COUNT(*) FROM inquiries").await, 1);
    count(app, "SELECT MAX(id) FROM inquiries").await
}

fn slot(staff: i64) -> String {
    format!("{staff}@{}", at(SLOT_AT).as_millisecond())
}

fn email_address(text: &str) -> ContactAddress {
    ContactAddress::Email(Email::parse(text).unwrap())
}

fn phone_address(text: &str) -> ContactAddress {
    ContactAddress::Phone(PhoneNumber::from_e164(text).unwrap())
}

/// Staff book the person's call from the inquiry page; then the job worker
/// runs every due job.
async fn staff_book_and_run_jobs(app: &TestApp, id: i64, staff: i64, session: &str) {
    let response = app
        .post_form(
            &format!("/staff/inquiries/{id}/consultations"),
            Some(session),
            // Outside her best times, confirmed by staff.
            &[("slot", slot(staff).as_str()), ("outside_ok", "yes")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let state = respite_web::AppState::new(app.store.clone(), Arc::new(config()));
    respite_web::jobs::run_due(&state).await.unwrap();
}

/// The staff page lists `address` as unverified (a number written as people
/// write it in the clinic's country), with the button.
async fn shown_unverified(app: &TestApp, id: i64, session: &str, address: &str) -> i64 {
    let shown = match address {
        ATTACKER_PHONE => "(503) 725-9999",
        other => other,
    };
    let page = app
        .get(&format!("/staff/inquiries/{id}"), Some(session))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Unverified contact details")
            && page.contains(shown)
            && page.contains("unverified")
            && page.contains("Confirmed with the person on a call"),
        "{page}"
    );
    let unverified = app.store.unverified_contacts(id).await.unwrap();
    assert_eq!(unverified.len(), 1);
    assert_eq!(unverified[0].address, address);
    unverified[0].id
}

/// Staff confirm the address on a call: it becomes the thread's, with
/// consent from "staff-verified", and the audit trail says who did it.
async fn staff_verify(app: &TestApp, id: i64, contact: i64, session: &str) {
    let response = app
        .post_form(
            &format!("/staff/inquiries/{id}/verify-contact"),
            Some(session),
            &[("contact", contact.to_string().as_str())],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert!(app.store.unverified_contacts(id).await.unwrap().is_empty());
    let audit = app
        .store
        .audit_entries(&AuditFilter {
            limit: 1,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (
            audit[0].action.as_str(),
            audit[0].resource_type.as_str(),
            audit[0].resource_id.as_str(),
            audit[0].actor.as_str(),
            audit[0].outcome.as_str(),
        ),
        (
            "update",
            "Inquiry",
            id.to_string().as_str(),
            "front-desk@clinic.test",
            "success"
        )
    );
    // A second confirmation of the same address finds nothing to confirm.
    let again = app
        .post_form(
            &format!("/staff/inquiries/{id}/verify-contact"),
            Some(session),
            &[("contact", contact.to_string().as_str())],
        )
        .await;
    assert_eq!(again.status(), 404);
}

both_engines!(a_web_form_with_her_number_cannot_take_her_thread);
async fn a_web_form_with_her_number_cannot_take_her_thread(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let session = app.sign_in(Role::FrontDesk).await;
    let victim = inquiry_fields("Ana López");
    app.post_form("/inquiries", None, &as_refs(&victim)).await;
    let id = only_inquiry(&app).await;

    // The attacker sends the form with her name and number and their own
    // e-mail address, consent box ticked.
    let mut attack = inquiry_fields("Ana López");
    attack[2].1 = ATTACKER_EMAIL.into();
    let response = app.post_form("/inquiries", None, &as_refs(&attack)).await;
    assert_eq!(response.status(), 303);
    assert_eq!(only_inquiry(&app).await, id);
    let record = app.store.inquiry(id).await.unwrap().unwrap();
    assert_eq!(record.email, None, "{engine:?}");
    let attacker = email_address(ATTACKER_EMAIL);
    let consent = app.store.consent(&attacker, MessageChannel::Email).await;
    assert_eq!(consent.unwrap(), None, "{engine:?}");
    let contact = shown_unverified(&app, id, &session, ATTACKER_EMAIL).await;

    // Staff book her call: no e-mail job, nothing to the attacker.
    staff_book_and_run_jobs(&app, id, staff, &session).await;
    let sql = "SELECT COUNT(*) FROM jobs WHERE kind LIKE '%email%'";
    assert_eq!(count(&app, sql).await, 0, "{engine:?}");
    let sql = format!("SELECT COUNT(*) FROM messages WHERE to_address = '{ATTACKER_EMAIL}'");
    assert_eq!(count(&app, &sql).await, 0);

    // Once staff confirmed it with her on a call, it is the thread's.
    staff_verify(&app, id, contact, &session).await;
    let record = app.store.inquiry(id).await.unwrap().unwrap();
    assert_eq!(record.email.as_deref(), Some(ATTACKER_EMAIL));
    let consent = app
        .store
        .consent(&attacker, MessageChannel::Email)
        .await
        .unwrap()
        .unwrap();
    assert!(consent.granted && consent.source == "staff-verified");
}

both_engines!(a_public_booking_with_her_number_cannot_take_her_thread);
async fn a_public_booking_with_her_number_cannot_take_her_thread(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let session = app.sign_in(Role::FrontDesk).await;
    let victim = inquiry_fields("Ana López");
    app.post_form("/inquiries", None, &as_refs(&victim)).await;
    let id = only_inquiry(&app).await;

    // The attacker books with her number and their own e-mail address.
    let booking = [
        ("name", "Ana López".to_owned()),
        ("phone", "(503) 725-3000".to_owned()),
        ("email", ATTACKER_EMAIL.to_owned()),
        ("time_zone", "America/Chicago".to_owned()),
        ("slot", slot(staff)),
        ("consent", "yes".to_owned()),
    ];
    let response = app
        .post_form("/consultations", None, &as_refs(&booking))
        .await;
    assert_eq!(response.status(), 303, "{engine:?}");
    assert_eq!(only_inquiry(&app).await, id);
    let record = app.store.inquiry(id).await.unwrap().unwrap();
    assert_eq!(record.email, None, "{engine:?}");
    let attacker = email_address(ATTACKER_EMAIL);
    let consent = app.store.consent(&attacker, MessageChannel::Email).await;
    assert_eq!(consent.unwrap(), None, "{engine:?}");
    shown_unverified(&app, id, &session, ATTACKER_EMAIL).await;

    // The confirmation's recipient is the thread's address, which it lacks:
    // the e-mail job ends unsent, and nothing reached the attacker.
    let consultation = app.store.consultations_of_inquiry(id).await.unwrap();
    assert_eq!(consultation[0].email, None);
    let state = respite_web::AppState::new(app.store.clone(), Arc::new(config()));
    respite_web::jobs::run_due(&state).await.unwrap();
    let email_jobs: Vec<_> = app
        .store
        .jobs()
        .await
        .unwrap()
        .into_iter()
        .filter(|job| job.kind == "confirmation-email")
        .collect();
    assert!(
        email_jobs
            .iter()
            .all(|job| job.done && job.last_error.as_deref() == Some("skipped: no e-mail address")),
        "{engine:?}: {email_jobs:?}"
    );
    let sql = format!("SELECT COUNT(*) FROM messages WHERE to_address = '{ATTACKER_EMAIL}'");
    assert_eq!(count(&app, &sql).await, 0);
}

both_engines!(an_email_from_her_address_cannot_give_her_thread_another_number);
async fn an_email_from_her_address_cannot_give_her_thread_another_number(engine: Engine) {
    let (app, staff) = clinic(engine).await;
    let session = app.sign_in(Role::FrontDesk).await;
    let mut victim = inquiry_fields("Ana López");
    victim[1].1 = String::new();
    victim[2].1 = "ana@example.org".into();
    victim[3].1 = "email".into();
    let response = app.post_form("/inquiries", None, &as_refs(&victim)).await;
    assert_eq!(response.status(), 303);
    let id = only_inquiry(&app).await;

    // A message that claims to be from her address, with the attacker's
    // number in its text.
    let outcome = app
        .store
        .record_inbound_message(&InboundMessage {
            channel: MessageChannel::Email,
            from: email_address("Ana@example.org"),
            to: "front-desk@clinic.test".into(),
            body: "New number, please text me at +1 503 725 9999".into(),
            external_id: "<takeover@attacker.test>".into(),
            recording_url: None,
            in_reply_to: None,
            at: at(NOW),
            callback: None,
            default_time_zone: "America/Los_Angeles".into(),
            phone_in_text: Some(PhoneNumber::from_e164(ATTACKER_PHONE).unwrap()),
        })
        .await
        .unwrap();
    assert_eq!((outcome.inquiry_id, outcome.new_inquiry), (id, false));
    let record = app.store.inquiry(id).await.unwrap().unwrap();
    assert_eq!(record.phone_e164, None, "{engine:?}");
    for channel in [MessageChannel::Sms, MessageChannel::Voice] {
        let consent = app
            .store
            .consent(&phone_address(ATTACKER_PHONE), channel)
            .await;
        assert_eq!(consent.unwrap(), None, "{engine:?}");
    }
    let contact = shown_unverified(&app, id, &session, ATTACKER_PHONE).await;

    // Staff cannot book her call while she has no number on file (the
    // consultation is a phone call), and the unverified number is not
    // used: no text job goes to the attacker's number.
    let refused = app
        .post_form(
            &format!("/staff/inquiries/{id}/consultations"),
            Some(&session),
            &[("slot", slot(staff).as_str()), ("outside_ok", "yes")],
        )
        .await;
    assert_eq!(refused.status(), 422, "{engine:?}");
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("this person has no phone number"));
    let sql = "SELECT COUNT(*) FROM jobs WHERE kind LIKE '%sms%'";
    assert_eq!(count(&app, sql).await, 0, "{engine:?}");
    let sql = format!("SELECT COUNT(*) FROM messages WHERE to_address = '{ATTACKER_PHONE}'");
    assert_eq!(count(&app, &sql).await, 0);

    staff_verify(&app, id, contact, &session).await;
    let record = app.store.inquiry(id).await.unwrap().unwrap();
    assert_eq!(record.phone_e164.as_deref(), Some(ATTACKER_PHONE));
    let consent = app
        .store
        .consent(&phone_address(ATTACKER_PHONE), MessageChannel::Sms)
        .await
        .unwrap()
        .unwrap();
    assert!(consent.granted && consent.source == "staff-verified");
}

both_engines!(an_email_naming_her_number_cannot_draw_her_texts_into_another_thread);
async fn an_email_naming_her_number_cannot_draw_her_texts_into_another_thread(engine: Engine) {
    let (app, _) = clinic(engine).await;
    let victim = inquiry_fields("Ana López");
    app.post_form("/inquiries", None, &as_refs(&victim)).await;
    let hers = only_inquiry(&app).await;

    // A stranger's first e-mail, giving her number as theirs: it opens the
    // stranger's own thread, with her number kept unverified there.
    let message = |from: ContactAddress, channel, id: &str, phone| InboundMessage {
        channel,
        from,
        to: "front-desk@clinic.test".into(),
        body: "Please call me at (503) 725-3000".into(),
        external_id: id.into(),
        recording_url: None,
        in_reply_to: None,
        at: at(NOW),
        callback: None,
        default_time_zone: "America/Los_Angeles".into(),
        phone_in_text: phone,
    };
    let her_number = "+15037253000";
    let outcome = app
        .store
        .record_inbound_message(&message(
            email_address(ATTACKER_EMAIL),
            MessageChannel::Email,
            "<stranger@attacker.test>",
            Some(PhoneNumber::from_e164(her_number).unwrap()),
        ))
        .await
        .unwrap();
    assert!(outcome.new_inquiry);
    let theirs = app
        .store
        .inquiry(outcome.inquiry_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(theirs.phone_e164, None, "{engine:?}");
    let unverified = app.store.unverified_contacts(theirs.id).await.unwrap();
    assert_eq!(unverified[0].address, her_number);

    // Her next text still joins her own thread.
    let text = app
        .store
        .record_inbound_message(&message(
            phone_address(her_number),
            MessageChannel::Sms,
            "SM-her-next",
            None,
        ))
        .await
        .unwrap();
    assert_eq!(text.inquiry_id, hers, "{engine:?}");
}
