//! The chart's records and the screening, through the pages (SPEC §1.3;
//! shared/clinical/screening.md): each contraindication tier, the chronic
//! criterion's day and month-end boundaries, freshness, bad input naming the
//! field and the rule with nothing written, uploads checked by content, the
//! audited download, and the admin's settings applied to the verdict.
//!
//! Expected verdicts come from screening.md and from calendar counts done by
//! hand (written beside each case), never from the engine's own output.

use jiff::Timestamp;
use respite_domain::Role;
use respite_store::AuditFilter;
use respite_web::{Clock, WebConfig};

use crate::support::*;

/// 12:00 in Los Angeles (the default clinic zone) on Wednesday 2026-05-27.
const NOON_MAY_27: &str = "2026-05-27T19:00:00Z";

async fn clinic_at(engine: Engine, now: &str) -> TestApp {
    let config = WebConfig {
        clock: Clock::Fixed(now.parse().unwrap()),
        ..WebConfig::default()
    };
    spawn_with(engine, config).await
}

async fn new_patient(app: &TestApp, given: &str) -> i64 {
    app.store
        .insert_patient(
            &respite_store::NewPatient {
                mrn: &format!("T-{given}"),
                given_name: given,
                family_name: "Chart",
                birth_date: jiff::civil::date(1980, 3, 4),
                sex: "female",
                phone_e164: None,
                email: None,
                time_zone: "America/Los_Angeles",
            },
            Timestamp::now(),
        )
        .await
        .unwrap()
}

/// Posts a form and returns the status and the body.
async fn post(app: &TestApp, session: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = app.post_form(path, Some(session), fields).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn page(app: &TestApp, session: &str, path: &str) -> String {
    let response = app.get(path, Some(session)).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

/// Uploads a file as a browser does (`multipart/form-data`, RFC 7578), with
/// the session's CSRF token among the fields.
async fn upload(
    app: &TestApp,
    session: &str,
    patient: i64,
    fields: &[(&str, &str)],
    file_name: &str,
    declared_type: &str,
    content: &[u8],
) -> (u16, String) {
    let token = app.csrf_token(Some(session)).await;
    let boundary = "----RespiteTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    let mut field = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    field("csrf", &token);
    for (name, value) in fields {
        field(name, value);
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{file_name}\"\r\nContent-Type: {declared_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = app
        .client
        .post(app.url(&format!("/staff/patients/{patient}/documents")))
        .header(
            "cookie",
            format!("respite_csrf={token}; respite_session={session}"),
        )
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn letter() -> Vec<u8> {
    respite_store::demo::letter_pdf(&["Referral letter".to_owned(), "Dr. Ada Osei".to_owned()])
}

/// The verdict's headline on the screening page.
fn headline(body: &str) -> String {
    between(
        body,
        "<p class=\"verdict-headline\" id=\"verdict\">",
        "</p>",
    )
}

/// Criterion `n`'s heading (number, title and status) on the screening page.
fn criterion(body: &str, n: u8) -> String {
    between(body, &format!("id=\"criterion-{n}\">"), "</h3>")
}

fn between(body: &str, start: &str, end: &str) -> String {
    let Some(at) = body.find(start) else {
        panic!(
            "no {start:?} in\n{}",
            body.chars().take(2000).collect::<String>()
        );
    };
    let rest = &body[at + start.len()..];
    let text = &rest[..rest.find(end).unwrap_or(rest.len())];
    // Tags out, entities as the page shows them.
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything screening needs, entered by the nurse through the pages on
/// 2026-05-27: CRPS I diagnosed by a physician, pain since 2025-01-10,
/// gabapentin and physiotherapy failed, penicillin allergy, vitals, lists
/// reviewed, no contraindication, no risk, and the referral letter.
async fn complete_chart(app: &TestApp, nurse: &str, patient: i64) {
    let base = format!("/staff/patients/{patient}");
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "problems",
            vec![
                ("icd10cm_code", "G90.521"),
                ("onset_date", "2025-01-10"),
                ("diagnosed_by", "Dr. Ada Osei"),
                ("qualification", "physician"),
                ("diagnosed_on", "2025-04-02"),
                ("recorded_on", "2026-05-27"),
            ],
        ),
        (
            "medications",
            vec![
                ("name", "Gabapentin 300 mg capsule"),
                ("rxnorm_code", "25480"),
                ("dose", "300 mg three times daily"),
                ("started_on", "2025-05-01"),
                ("stopped_on", "2025-08-01"),
                ("treatment_class", "gabapentinoid"),
                ("stop_reason", "ineffective"),
                ("recorded_on", "2026-05-27"),
            ],
        ),
        (
            "medications",
            vec![
                ("name", "Physiotherapy"),
                ("tried_for_days", "84"),
                ("treatment_class", "physiotherapy"),
                ("stop_reason", "ineffective"),
                ("recorded_on", "2026-05-27"),
            ],
        ),
        (
            "allergies",
            vec![
                ("substance", "Penicillin"),
                ("rxnorm_code", "7980"),
                ("kind", "allergy"),
                ("category", "medication"),
                ("criticality", "low"),
                ("reaction", "hives"),
                ("recorded_on", "2026-05-27"),
            ],
        ),
        (
            "vitals",
            vec![
                ("observed_at", "2026-05-27T09:30"),
                ("systolic", "124"),
                ("diastolic", "78"),
                ("heart_rate", "72"),
                ("weight_kg", "68"),
                ("height_cm", "165"),
            ],
        ),
        (
            "contraindication-review",
            vec![("reviewed_on", "2026-05-27"), ("none_present", "1")],
        ),
        ("pre-infusion-risks", vec![("assessed_on", "2026-05-27")]),
    ];
    for (form, fields) in forms {
        let (status, body) = post(app, nurse, &format!("{base}/{form}"), &fields).await;
        assert_eq!(
            status,
            303,
            "{form}: {}",
            body.chars().take(1500).collect::<String>()
        );
    }
    let (status, body) = upload(
        app,
        nurse,
        patient,
        &[
            ("kind", "referral-letter"),
            ("document_date", "2026-05-20"),
            ("title", "Referral from Dr. Osei"),
            ("author", "Dr. Ada Osei"),
        ],
        "referral.pdf",
        "application/pdf",
        &letter(),
    )
    .await;
    assert_eq!(
        status,
        303,
        "{}",
        body.chars().take(1500).collect::<String>()
    );
}

both_engines!(a_complete_chart_is_eligible_and_each_tier_acts_as_screening_md_says);
async fn a_complete_chart_is_eligible_and_each_tier_acts_as_screening_md_says(engine: Engine) {
    let app = clinic_at(engine, NOON_MAY_27).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let admin = app.sign_in(Role::Admin).await;
    let screening = |patient: i64| format!("/staff/patients/{patient}/screening");

    // (contraindication ticked, tier by screening.md's defaults, headline, override?)
    let cases = [
        (None, "Eligible — clinician decision needed", false),
        (
            Some("pregnancy"),
            "Not eligible unless a clinician overrides with a reason",
            true,
        ),
        (
            Some("severe-hepatic-disease"),
            "Not eligible unless a clinician overrides with a reason",
            true,
        ),
        (
            Some("active-substance-abuse"),
            "Refer for clinician review",
            false,
        ),
        (
            Some("elevated-intracranial-pressure"),
            "Refer for clinician review",
            false,
        ),
        // The label's hypersensitivity, ticked in the review: absolute.
        (Some("ketamine-hypersensitivity"), "Not eligible", false),
    ];
    let mut eligible = 0;
    for (index, (present, expected, override_allowed)) in cases.into_iter().enumerate() {
        let patient = new_patient(&app, &format!("Tier{index}")).await;
        complete_chart(&app, &nurse, patient).await;
        if present.is_none() {
            eligible = patient;
        }
        if let Some(code) = present {
            let field = format!("present_{code}");
            let mut fields = vec![("reviewed_on", "2026-05-27"), (field.as_str(), "1")];
            if code == "severe-hepatic-disease" {
                fields.push(("note", "Child-Pugh C"));
            }
            let (status, _) = post(
                &app,
                &nurse,
                &format!("/staff/patients/{patient}/contraindication-review"),
                &fields,
            )
            .await;
            assert_eq!(status, 303, "{code}");
            if code == "severe-hepatic-disease" {
                // Cohen 2018: liver tests with liver disease; the letter of them
                // is missing, but the tier decides the headline.
                let body = page(&app, &nurse, &screening(patient)).await;
                assert!(body.contains("Order liver function tests"), "{engine:?}");
            }
        }
        let body = page(&app, &nurse, &screening(patient)).await;
        assert_eq!(headline(&body), expected, "{engine:?} {present:?}");
        assert_eq!(
            body.contains("A clinician may override the contraindication below"),
            override_allowed,
            "{engine:?} {present:?}"
        );
        if present.is_none() {
            for n in 1..=6 {
                assert!(
                    criterion(&body, n).ends_with(" met"),
                    "{}",
                    criterion(&body, n)
                );
            }
            // Evidence links to the entries it used.
            assert!(body.contains("/staff/documents/"), "the letter is linked");
            assert!(
                body.contains("records#medication-"),
                "treatments are linked"
            );
        }
    }

    // A ketamine allergy alone is the absolute contraindication: no review of
    // it needed, no override.
    let patient = new_patient(&app, "Allergic").await;
    complete_chart(&app, &nurse, patient).await;
    let (status, _) = post(
        &app,
        &nurse,
        &format!("/staff/patients/{patient}/allergies"),
        &[
            ("substance", "Ketamine"),
            ("rxnorm_code", "6130"),
            ("kind", "allergy"),
            ("category", "medication"),
            ("criticality", "high"),
            ("reaction", "anaphylaxis"),
            ("recorded_on", "2026-05-27"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let body = page(&app, &nurse, &screening(patient)).await;
    assert_eq!(headline(&body), "Not eligible", "{engine:?}");
    assert!(!body.contains("A clinician may override"));
    let records = page(&app, &nurse, &format!("/staff/patients/{patient}/records")).await;
    assert!(
        between(&records, "<p class=\"ketamine-row", "</p>").contains("recorded — Ketamine"),
        "the ketamine row shows it"
    );

    // The admin moves pregnancy to "refer for clinician review": applied.
    let pregnant = new_patient(&app, "Settings").await;
    complete_chart(&app, &nurse, pregnant).await;
    post(
        &app,
        &nurse,
        &format!("/staff/patients/{pregnant}/contraindication-review"),
        &[("reviewed_on", "2026-05-27"), ("present_pregnancy", "1")],
    )
    .await;
    let mut settings = default_settings();
    set(&mut settings, "tier_pregnancy", "refer-for-review");
    let (status, _) = post(&app, &admin, "/staff/settings/screening", &refs(&settings)).await;
    assert_eq!(status, 303);
    let body = page(&app, &nurse, &screening(pregnant)).await;
    assert_eq!(headline(&body), "Refer for clinician review", "{engine:?}");
    let entry = &app
        .store
        .audit_entries(&AuditFilter {
            resource_type: Some("ClinicSetting".into()),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap()[0];
    assert_eq!(
        (
            entry.action.as_str(),
            entry.outcome.as_str(),
            entry.actor.as_str()
        ),
        ("update", "success", "admin@clinic.test")
    );

    // The admin asks for 3 failed classes: the complete chart (2 classes) now
    // needs information, and says how many more.
    set(&mut settings, "minimum_conventional_classes", "3");
    let (status, _) = post(&app, &admin, "/staff/settings/screening", &refs(&settings)).await;
    assert_eq!(status, 303);
    let body = page(&app, &nurse, &screening(eligible)).await;
    assert_eq!(headline(&body), "Needs information", "{engine:?}");
    assert!(body.contains("Document 1 more class of conventional treatment"));
    assert!(criterion(&body, 4).ends_with("information missing"));

    // Hypersensitivity cannot leave the absolute tier, even by a forged form.
    let mut forged = default_settings();
    forged.push((
        "tier_ketamine-hypersensitivity".into(),
        "refer-for-review".into(),
    ));
    let (status, body) = post(&app, &admin, "/staff/settings/screening", &refs(&forged)).await;
    assert_eq!(status, 422);
    assert!(
        body.contains("tier_ketamine-hypersensitivity: known hypersensitivity to ketamine: is a contraindication on the product label and stays absolute"),
        "{body}"
    );
}

fn default_settings() -> Vec<(String, String)> {
    let mut fields = vec![
        ("minimum_conventional_classes", "2"),
        ("max_upload_mib", "10"),
    ];
    for (kind, amount, unit) in [
        ("medication-list", "90", "days"),
        ("allergies", "365", "days"),
        ("problem-list", "365", "days"),
        ("vital-signs", "30", "days"),
        ("diagnosis-letter", "12", "months"),
        ("ecg", "12", "months"),
        ("liver-function-tests", "90", "days"),
    ] {
        fields.push((Box::leak(format!("window_{kind}").into_boxed_str()), amount));
        fields.push((Box::leak(format!("unit_{kind}").into_boxed_str()), unit));
    }
    for (c, tier) in [
        (
            "poorly-controlled-cardiovascular-disease",
            "not-eligible-unless-overridden",
        ),
        ("pregnancy", "not-eligible-unless-overridden"),
        ("active-psychosis", "not-eligible-unless-overridden"),
        ("severe-hepatic-disease", "not-eligible-unless-overridden"),
        ("moderate-hepatic-disease", "refer-for-review"),
        ("elevated-intracranial-pressure", "refer-for-review"),
        ("elevated-intraocular-pressure", "refer-for-review"),
        ("active-substance-abuse", "refer-for-review"),
        (
            "significant-blood-pressure-rise-hazard",
            "not-eligible-unless-overridden",
        ),
    ] {
        fields.push((Box::leak(format!("tier_{c}").into_boxed_str()), tier));
    }
    fields
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    for (k, v) in fields.iter_mut() {
        if k == name {
            *v = value.to_owned();
        }
    }
}

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

both_engines!(the_chronic_criterion_holds_its_day_and_month_end_boundaries);
/// Criterion 1: chronic iff today > onset + 3 calendar months (Treede 2019;
/// screening.md). Counted by hand:
/// - today 2026-05-27: onset 2026-02-27 is 89 days back (28 + 31 + 30) and
///   exactly 3 months → not yet; 2026-02-26 (90 days) and 2026-02-25 (91)
///   → chronic;
/// - month end: onset 2025-11-30 + 3 months = 2026-02-28 (clamped): on
///   2026-02-28 not yet, on 2026-03-01 chronic; onset 2026-01-31 + 3 months
///   = 2026-04-30: on 2026-04-30 not yet, on 2026-05-01 chronic.
async fn the_chronic_criterion_holds_its_day_and_month_end_boundaries(engine: Engine) {
    let cases: [(&str, &str, bool); 7] = [
        (NOON_MAY_27, "2026-02-27", false),
        (NOON_MAY_27, "2026-02-26", true),
        (NOON_MAY_27, "2026-02-25", true),
        ("2026-02-28T20:00:00Z", "2025-11-30", false),
        ("2026-03-01T20:00:00Z", "2025-11-30", true),
        ("2026-04-30T19:00:00Z", "2026-01-31", false),
        ("2026-05-01T19:00:00Z", "2026-01-31", true),
    ];
    let mut clinics: Vec<(&str, TestApp, String)> = Vec::new();
    for (now, onset, chronic) in cases {
        if !clinics.iter().any(|(at, _, _)| *at == now) {
            let app = clinic_at(engine, now).await;
            let nurse = app.sign_in(Role::Nurse).await;
            clinics.push((now, app, nurse));
        }
        let (_, app, nurse) = clinics.iter().find(|(at, _, _)| *at == now).unwrap();
        let patient = new_patient(app, &format!("Onset{}", onset.replace('-', ""))).await;
        let (status, body) = post(
            app,
            nurse,
            &format!("/staff/patients/{patient}/problems"),
            &[
                ("icd10cm_code", "M79.7"),
                ("onset_date", onset),
                ("diagnosed_by", "Dr. Ada Osei"),
                ("qualification", "physician"),
                ("diagnosed_on", onset),
                ("recorded_on", onset),
            ],
        )
        .await;
        assert_eq!(status, 303, "{body}");
        let body = page(app, nurse, &format!("/staff/patients/{patient}/screening")).await;
        let heading = criterion(&body, 1);
        let expected = if chronic {
            "1. Pain is chronic met"
        } else {
            "1. Pain is chronic not met"
        };
        assert_eq!(heading, expected, "{engine:?} today {now}, onset {onset}");
        if !chronic {
            assert_eq!(headline(&body), "Not eligible", "{engine:?} {now} {onset}");
        }
    }
}

both_engines!(bad_input_names_the_field_and_the_rule_and_writes_nothing);
async fn bad_input_names_the_field_and_the_rule_and_writes_nothing(engine: Engine) {
    let app = clinic_at(engine, NOON_MAY_27).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let admin = app.sign_in(Role::Admin).await;
    let patient = new_patient(&app, "Bad").await;
    let path = |form: &str| format!("/staff/patients/{patient}/{form}");
    let medication = |change: (&'static str, &'static str)| {
        let mut fields = vec![
            ("name", "Naproxen 500 mg tablet"),
            ("rxnorm_code", "7258"),
            ("started_on", "2026-01-10"),
            ("stopped_on", "2026-03-01"),
            ("treatment_class", "nsaid"),
            ("stop_reason", "ineffective"),
            ("recorded_on", "2026-05-27"),
        ];
        fields.retain(|(k, _)| *k != change.0);
        fields.push(change);
        fields
    };
    let problem = |change: (&'static str, &'static str)| {
        let mut fields = vec![
            ("icd10cm_code", "M79.7"),
            ("onset_date", "2025-01-10"),
            ("diagnosed_by", "Dr. Ada Osei"),
            ("qualification", "physician"),
            ("diagnosed_on", "2025-02-01"),
            ("recorded_on", "2026-05-27"),
        ];
        fields.retain(|(k, _)| *k != change.0);
        fields.push(change);
        fields
    };
    // (form, fields, the field and rule the page must name)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "problems",
            problem(("icd10cm_code", "Z99.99")),
            "icd10cm_code: Z99.99 is not in the clinic's ICD-10-CM table",
        ),
        (
            "problems",
            problem(("icd10cm_code", "M54.5")),
            "icd10cm_code: M54.5 is not in the clinic's ICD-10-CM table",
        ),
        (
            "problems",
            problem(("qualification", "")),
            "qualification: choose the diagnosing professional's qualification",
        ),
        (
            "problems",
            problem(("onset_date", "2026-05-28")),
            "onset_date: must not be after today (2026-05-27)",
        ),
        (
            "medications",
            medication(("stopped_on", "2026-01-09")),
            "stopped_on: must not be before the start date (started_on 2026-01-10)",
        ),
        (
            "medications",
            medication(("rxnorm_code", "ibuprofen")),
            "rxnorm_code: must be an RxNorm code (RXCUI): digits only",
        ),
        (
            "medications",
            medication(("started_on", "27/05/2026")),
            "started_on: must be a date like 2026-05-27",
        ),
        (
            "medications",
            medication(("stop_reason", "other")),
            "stop_reason_note: is required: say why it was stopped",
        ),
        (
            "allergies",
            vec![
                ("substance", ""),
                ("kind", "allergy"),
                ("category", "medication"),
                ("criticality", "low"),
                ("recorded_on", "2026-05-27"),
            ],
            "substance: is required",
        ),
        (
            "vitals",
            vec![
                ("observed_at", "2026-05-27T09:00"),
                ("systolic", "80"),
                ("diastolic", "90"),
            ],
            "diastolic: must be lower than the systolic pressure",
        ),
        (
            "vitals",
            vec![("observed_at", "2026-05-27T09:00"), ("weight_kg", "700")],
            "weight_kg: must be between 30 and 300 kg",
        ),
        (
            "vitals",
            vec![("observed_at", "2026-05-28T09:00"), ("weight_kg", "70")],
            "observed_at: must not be in the future",
        ),
        (
            "contraindication-review",
            vec![("reviewed_on", "2026-05-27")],
            "none_present: tick the contraindications present, or confirm that none is",
        ),
    ];
    for (form, fields, rule) in &cases {
        let (status, body) = post(&app, &nurse, &path(form), fields).await;
        assert_eq!(status, 422, "{engine:?} {form} {rule}");
        assert!(
            body.replace("&#x27;", "'")
                .replace("&#39;", "'")
                .contains(rule),
            "{engine:?} {form}: no {rule:?}"
        );
    }

    // Uploads: the content decides the type, not the name or the header.
    let document = [
        ("kind", "referral-letter"),
        ("document_date", "2026-05-20"),
        ("title", "Referral"),
    ];
    let (status, body) = upload(
        &app,
        &nurse,
        patient,
        &document,
        "letter.pdf",
        "application/pdf",
        b"MZ\x90\x00 this is not a PDF",
    )
    .await;
    assert_eq!(status, 422);
    assert!(body
        .contains("file: must be a PDF, PNG or JPEG file (checked by its content, not its name)"));
    let (status, body) = upload(
        &app,
        &nurse,
        patient,
        &document,
        "empty.pdf",
        "application/pdf",
        b"",
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("file: is required: choose a PDF, PNG or JPEG file"));
    // Over the clinic's limit (set to 1 MiB): 413, naming the field and the limit.
    let mut settings = default_settings();
    set(&mut settings, "max_upload_mib", "1");
    let (status, _) = post(&app, &admin, "/staff/settings/screening", &refs(&settings)).await;
    assert_eq!(status, 303);
    let mut big = letter();
    big.resize(1024 * 1024 + 1, b' ');
    let (status, body) = upload(
        &app,
        &nurse,
        patient,
        &document,
        "big.pdf",
        "application/pdf",
        &big,
    )
    .await;
    assert_eq!(status, 413, "{engine:?}");
    assert!(
        body.replace("&#x27;", "'").replace("&#39;", "'").contains(
            "file: is larger than the clinic's limit of 1.0 MB (a clinic setting): this file is 1048577 bytes"
        ),
        "{engine:?}"
    );
    // Over what any setting allows (50 MiB): refused before any handler runs.
    let huge = vec![b'%'; 51 * 1024 * 1024];
    let (status, body) = upload(
        &app,
        &nurse,
        patient,
        &document,
        "huge.pdf",
        "application/pdf",
        &huge,
    )
    .await;
    assert_eq!(status, 413, "{engine:?}");
    assert!(
        body.contains("file: the upload is larger than 50 MiB"),
        "{body}"
    );
    drop(huge);
    // Settings refuse a limit over the server's ceiling.
    set(&mut settings, "max_upload_mib", "51");
    let (status, body) = post(&app, &admin, "/staff/settings/screening", &refs(&settings)).await;
    assert_eq!(status, 422);
    assert!(body.contains("max_upload_mib: must be a whole number of MiB from 1 to 50"));

    // Nothing was written by any refused form.
    let entries = app.store.chart_entries(patient).await.unwrap();
    assert!(entries.problems.is_empty(), "{engine:?}");
    assert!(entries.medications.is_empty());
    assert!(entries.allergies.is_empty());
    assert!(entries.vitals.is_empty());
    assert!(entries.contraindication_reviews.is_empty());
    assert!(entries.documents.is_empty());

    // A PNG sent as "application/pdf" is stored as what it is.
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR";
    let (status, _) = upload(
        &app,
        &nurse,
        patient,
        &document,
        "scan.pdf",
        "application/pdf",
        png,
    )
    .await;
    assert_eq!(status, 303);
    let documents = app.store.chart_documents(patient).await.unwrap();
    assert_eq!(documents[0].media_type.as_str(), "image/png");

    // The front desk is refused the upload itself (and writes nothing).
    let front = app.sign_in(Role::FrontDesk).await;
    let (status, _) = upload(
        &app,
        &front,
        patient,
        &document,
        "letter.pdf",
        "application/pdf",
        &letter(),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(app.store.chart_documents(patient).await.unwrap().len(), 1);
}

both_engines!(a_download_is_the_stored_file_and_is_audited);
async fn a_download_is_the_stored_file_and_is_audited(engine: Engine) {
    let app = clinic_at(engine, NOON_MAY_27).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let patient = new_patient(&app, "Download").await;
    let pdf = letter();
    let (status, _) = upload(
        &app,
        &nurse,
        patient,
        &[
            ("kind", "referral-letter"),
            ("document_date", "2026-05-20"),
            ("title", "Referral"),
        ],
        "../../etc/referral \"Osei\".pdf",
        "application/octet-stream",
        &pdf,
    )
    .await;
    assert_eq!(status, 303);
    let id = app.store.chart_documents(patient).await.unwrap()[0].id;
    let response = app
        .get(&format!("/staff/documents/{id}"), Some(&clinician))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(disposition, "attachment; filename=\"referral__Osei_.pdf\"");
    assert_eq!(response.bytes().await.unwrap().to_vec(), pdf);
    let entry = &app
        .store
        .audit_entries(&AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()[0];
    assert_eq!(
        (
            entry.resource_type.as_str(),
            entry.action.as_str(),
            entry.resource_id.as_str(),
            entry.actor.as_str()
        ),
        (
            "DocumentReference",
            "read",
            id.to_string().as_str(),
            "clinician@clinic.test"
        )
    );
}

both_engines!(each_record_kind_shows_stale_past_its_window_and_the_settings_apply);
/// Vitals of 2026-04-27 with the default 30-day window: current until
/// 2026-05-27 (27 Apr + 30 days), so current on 2026-05-27 and stale from the
/// 28th. A clinic window of 7 days makes them stale on the 27th, and the
/// screening asks for new measurements.
async fn each_record_kind_shows_stale_past_its_window_and_the_settings_apply(engine: Engine) {
    for (now, badge) in [(NOON_MAY_27, "current"), ("2026-05-28T19:00:00Z", "stale")] {
        let app = clinic_at(engine, now).await;
        let nurse = app.sign_in(Role::Nurse).await;
        let patient = new_patient(&app, "Stale").await;
        let (status, _) = post(
            &app,
            &nurse,
            &format!("/staff/patients/{patient}/vitals"),
            &[
                ("observed_at", "2026-04-27T10:00"),
                ("systolic", "120"),
                ("diastolic", "80"),
                ("weight_kg", "70"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let body = page(&app, &nurse, &format!("/staff/patients/{patient}/records")).await;
        let line = between(&body, "<section id=\"vitals\"", "</p>");
        assert!(
            line.contains(&format!(
                "{badge} Vital signs including weight dated 2026-04-27"
            )),
            "{engine:?} {now}: {line}"
        );
        if badge == "stale" {
            assert!(line.contains("stale since 2026-05-28"), "{line}");
            let screening = page(
                &app,
                &nurse,
                &format!("/staff/patients/{patient}/screening"),
            )
            .await;
            assert!(screening.contains(
                "Measure blood pressure and weight again (last recorded 2026-04-27, stale since 2026-05-28)."
            ));
        }
        if badge == "current" {
            let admin = app.sign_in(Role::Admin).await;
            let mut settings = default_settings();
            set(&mut settings, "window_vital-signs", "7");
            let (status, _) =
                post(&app, &admin, "/staff/settings/screening", &refs(&settings)).await;
            assert_eq!(status, 303);
            let body = page(&app, &nurse, &format!("/staff/patients/{patient}/records")).await;
            let line = between(&body, "<section id=\"vitals\"", "</p>");
            assert!(
                line.contains("stale since 2026-05-05"),
                "{engine:?}: {line}"
            );
        }
    }
}

both_engines!(the_next_action_names_the_physician_and_the_date);
/// A letter of 2025-05-26 is past its 12 months on 2026-05-27 (current until
/// 2026-05-26): the oldest date still current is today minus 12 months,
/// 2025-05-27, so the request is for records newer than 2025-05-26.
async fn the_next_action_names_the_physician_and_the_date(engine: Engine) {
    let app = clinic_at(engine, NOON_MAY_27).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let patient = new_patient(&app, "Letter").await;
    complete_chart(&app, &nurse, patient).await;
    let (status, _) = upload(
        &app,
        &nurse,
        patient,
        &[
            ("kind", "referral-letter"),
            ("document_date", "2025-05-26"),
            ("title", "Old referral"),
        ],
        "old.pdf",
        "application/pdf",
        &letter(),
    )
    .await;
    assert_eq!(status, 303);
    // The newest letter counts: still eligible.
    let body = page(
        &app,
        &nurse,
        &format!("/staff/patients/{patient}/screening"),
    )
    .await;
    assert_eq!(headline(&body), "Eligible — clinician decision needed");

    let patient = new_patient(&app, "OldLetter").await;
    complete_chart(&app, &nurse, patient).await;
    let mut conn = app.raw().await;
    sqlx::query("DELETE FROM chart_documents WHERE patient_id = $1")
        .bind(patient)
        .execute(&mut conn)
        .await
        .unwrap();
    let (status, _) = upload(
        &app,
        &nurse,
        patient,
        &[
            ("kind", "referral-letter"),
            ("document_date", "2025-05-26"),
            ("title", "Old referral"),
        ],
        "old.pdf",
        "application/pdf",
        &letter(),
    )
    .await;
    assert_eq!(status, 303);
    let body = page(
        &app,
        &nurse,
        &format!("/staff/patients/{patient}/screening"),
    )
    .await;
    assert_eq!(headline(&body), "Needs information", "{engine:?}");
    assert!(
        body.contains(
            "Ask Dr. Ada Osei for records newer than 2025-05-26 (the letter on file is dated 2025-05-26, stale since 2026-05-27)."
        ),
        "{engine:?}"
    );
}

both_engines!(a_current_medication_is_stopped_and_becomes_past);
async fn a_current_medication_is_stopped_and_becomes_past(engine: Engine) {
    let app = clinic_at(engine, NOON_MAY_27).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let patient = new_patient(&app, "Stop").await;
    let (status, _) = post(
        &app,
        &nurse,
        &format!("/staff/patients/{patient}/medications"),
        &[
            ("name", "Lorazepam 1 mg tablet"),
            ("rxnorm_code", "6470"),
            ("started_on", "2026-03-01"),
            ("recorded_on", "2026-05-27"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let body = page(
        &app,
        &nurse,
        &format!("/staff/patients/{patient}/screening"),
    )
    .await;
    assert!(
        body.contains("may blunt the response to ketamine; additive sedation"),
        "flagged with its mechanism"
    );
    let id = app.store.chart_entries(patient).await.unwrap().medications[0]
        .id
        .to_string();
    let stop = format!("/staff/patients/{patient}/medications/stop");
    let (status, body) = post(
        &app,
        &nurse,
        &stop,
        &[("medication_id", &id), ("stopped_on", "2026-02-28")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("stopped_on: must not be before the start date (started_on 2026-03-01)"));
    let (status, _) = post(
        &app,
        &nurse,
        &stop,
        &[("medication_id", &id), ("stopped_on", "2026-05-20")],
    )
    .await;
    assert_eq!(status, 303);
    let body = page(
        &app,
        &nurse,
        &format!("/staff/patients/{patient}/screening"),
    )
    .await;
    assert!(
        !body.contains("may blunt the response"),
        "{engine:?}: a stopped medication is not current"
    );
    let records = page(&app, &nurse, &format!("/staff/patients/{patient}/records")).await;
    assert!(records.contains("2026-03-01 to 2026-05-20"));
}

both_engines!(an_entry_marked_entered_in_error_leaves_the_chart_and_the_screening);
async fn an_entry_marked_entered_in_error_leaves_the_chart_and_the_screening(engine: Engine) {
    let app = clinic_at(engine, NOON_MAY_27).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let patient = new_patient(&app, "InError").await;
    complete_chart(&app, &nurse, patient).await;
    let screening = format!("/staff/patients/{patient}/screening");
    assert_eq!(
        headline(&page(&app, &nurse, &screening).await),
        "Eligible — clinician decision needed"
    );
    let entries = app.store.chart_entries(patient).await.unwrap();
    let gabapentin = entries
        .medications
        .iter()
        .find(|m| m.name.starts_with("Gabapentin"))
        .unwrap()
        .id
        .to_string();
    let path = format!("/staff/patients/{patient}/entered-in-error");
    // The reason is required; another patient's entry is not this one's.
    let (status, body) = post(
        &app,
        &nurse,
        &path,
        &[("entry", "medication"), ("entry_id", &gabapentin)],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("reason: is required"));
    let other = new_patient(&app, "Other").await;
    let (status, body) = post(
        &app,
        &nurse,
        &format!("/staff/patients/{other}/entered-in-error"),
        &[
            ("entry", "medication"),
            ("entry_id", &gabapentin),
            ("reason", "test"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .contains("entry_id: must name one of this patient's entries in force"));

    let (status, _) = post(
        &app,
        &nurse,
        &path,
        &[
            ("entry", "medication"),
            ("entry_id", &gabapentin),
            ("reason", "another patient's medication"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    // One class is left: the screening asks for one more.
    let body = page(&app, &nurse, &screening).await;
    assert_eq!(headline(&body), "Needs information", "{engine:?}");
    assert!(body.contains("Document 1 more class"));
    let records = page(&app, &nurse, &format!("/staff/patients/{patient}/records")).await;
    assert!(!records.contains(&format!("id=\"medication-{gabapentin}\"")));
    // The row is kept, with who marked it and why.
    let mut conn = app.raw().await;
    let (reason, by): (String, Option<i64>) = sqlx::query_as(
        "SELECT entered_in_error_reason, entered_in_error_by_user_id FROM medications WHERE id = $1",
    )
    .bind(gabapentin.parse::<i64>().unwrap())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(reason, "another patient's medication");
    assert!(by.is_some());

    // A document entered in error is no longer served.
    let document = app.store.chart_documents(patient).await.unwrap()[0].id;
    let (status, _) = post(
        &app,
        &nurse,
        &path,
        &[
            ("entry", "document"),
            ("entry_id", &document.to_string()),
            ("reason", "wrong patient"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let response = app
        .get(&format!("/staff/documents/{document}"), Some(&nurse))
        .await;
    assert_eq!(response.status(), 404);
}
