//! The public inquiry form: stored normalised, errors named, nothing lost under load.

use respite_store::{AuditChainStatus, AuditFilter, InquiryStatus};

use crate::support::*;

both_engines!(an_inquiry_is_stored_normalised_and_acknowledged);
async fn an_inquiry_is_stored_normalised_and_acknowledged(engine: Engine) {
    let app = spawn(engine).await;
    let fields = inquiry_fields("Ana López");
    let response = app.post_form("/inquiries", None, &as_refs(&fields)).await;
    assert_eq!(response.status(), 303, "{engine:?}");
    assert_eq!(response.headers()["location"], "/inquiries/thanks");
    let stored = app
        .store
        .inquiries_with_status(InquiryStatus::New, 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "Ana López");
    assert_eq!(stored[0].phone_e164.as_deref(), Some("+15037253000"));
    assert_eq!(stored[0].contact_windows, "weekdays 17:00-19:00");
    assert_eq!(stored[0].time_zone, "America/Chicago");
    let audit = app
        .store
        .audit_entries(&AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(
        (
            audit[0].action.as_str(),
            audit[0].resource_type.as_str(),
            audit[0].outcome.as_str()
        ),
        ("create", "Inquiry", "success")
    );
    assert_eq!(
        audit[0].resource_id,
        stored[0].id.to_string(),
        "the audit names the new record"
    );
}

both_engines!(invalid_inquiry_fields_are_named_kept_and_nothing_is_stored);
async fn invalid_inquiry_fields_are_named_kept_and_nothing_is_stored(engine: Engine) {
    let app = spawn(engine).await;
    let check = |field: &'static str, value: &'static str, expected_message: &'static str| {
        let app = &app;
        async move {
            let mut fields = inquiry_fields("Typed Name Kept");
            fields.retain(|(k, _)| *k != field);
            if !value.is_empty() {
                fields.push((field, value.to_owned()));
            }
            let response = app.post_form("/inquiries", None, &as_refs(&fields)).await;
            assert_eq!(response.status(), 422, "{engine:?} {field}={value}");
            let body = response.text().await.unwrap();
            assert!(
                body.contains("class=\"field-error\""),
                "{field}: no field error shown"
            );
            assert!(
                body.contains(expected_message),
                "{field}: {expected_message} not in page"
            );
            assert!(
                body.contains("Typed Name Kept") || field == "name",
                "{field}: typed name lost"
            );
        }
    };
    check("phone", "123", "not a valid number").await;
    check("phone", "call me maybe", "not a phone number we can read").await;
    check("email", "ana@", "must look like name@example.org").await;
    check("consent", "", "we need your permission").await;
    check("time_zone", "Mars/Olympus", "not a known time zone").await;
    check("window_end", "08:00", "must be later than the start").await;
    check("pain_area", "", "choose where the pain is").await;
    check("name", "", "is required").await;
    assert_eq!(
        app.store.count_inquiries().await.unwrap(),
        0,
        "{engine:?}: nothing stored"
    );
}

both_engines!(concurrent_inquiries_are_all_kept);
async fn concurrent_inquiries_are_all_kept(engine: Engine) {
    let app = spawn(engine).await;
    let posts = (0..40).map(|n| {
        let app = &app;
        async move {
            // Forty people, forty numbers (one person's forms share a thread).
            let mut fields = inquiry_fields(&format!("Person {n}"));
            fields[1].1 = format!("(503) 725-30{n:02}");
            app.post_form("/inquiries", None, &as_refs(&fields))
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(posts).await;
    assert!(
        statuses.iter().all(|s| *s == 303),
        "{engine:?}: {statuses:?}"
    );
    assert_eq!(app.store.count_inquiries().await.unwrap(), 40, "{engine:?}");
    assert!(matches!(
        app.store.verify_audit_chain().await.unwrap(),
        AuditChainStatus::Intact { entries: 40 }
    ));
}
