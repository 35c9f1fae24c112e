//! The staff lists page by keyset (nothing skipped or repeated when rows
//! are added between pages) and search: patients by name, MRN, phone in any
//! formatting, e-mail and (clinical roles) condition; the inquiry queue; the
//! callbacks with their "window open now" filter; the audit trail.

use jiff::Timestamp;
use respite_domain::inquiry::InquiryForm;
use respite_domain::Role;
use respite_store::{AuditFilter, NewPatient, Store};
use respite_web::{Clock, WebConfig};

use crate::support::*;

/// The values of `attribute="…"` in `page`, in order.
fn attributes(page: &str, attribute: &str) -> Vec<String> {
    let marker = format!("{attribute}=\"");
    page.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &page[at + marker.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// The address of the link with `rel`, unescaped, if the page has one.
fn link(page: &str, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\"");
    let at = page.find(&marker)?;
    let start = page[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + page[start..].find('"')?;
    Some(
        page[start..end]
            .replace("&#38;", "&")
            .replace("&amp;", "&")
            .replace("&#61;", "="),
    )
}

async fn add_patient(store: &Store, family: &str, phone: &str, email: &str) -> i64 {
    store
        .insert_patient(
            &NewPatient {
                mrn: &format!("T-{family}"),
                given_name: "Given",
                family_name: family,
                birth_date: jiff::civil::date(1980, 5, 5),
                sex: "female",
                phone_e164: Some(phone),
                email: Some(email),
                time_zone: "America/Chicago",
            },
            Timestamp::now(),
        )
        .await
        .unwrap()
}

async fn page_of(app: &TestApp, path: &str, token: &str) -> String {
    let response = app.get(path, Some(token)).await;
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

both_engines!(patients_page_by_keyset_and_rows_added_between_pages_shift_nothing);
async fn patients_page_by_keyset_and_rows_added_between_pages_shift_nothing(engine: Engine) {
    let app = spawn(engine).await;
    // 60 patients Family000, Family002, … Family118: room between them.
    let mut names = std::collections::HashMap::new();
    for n in (0..120).step_by(2) {
        let family = format!("Family{n:03}");
        let id = add_patient(
            &app.store,
            &family,
            &format!("+1503555{:04}", 1000 + n),
            &format!("p{n}@example.org"),
        )
        .await;
        names.insert(id.to_string(), family);
    }
    let token = app.sign_in(Role::FrontDesk).await;
    let first = page_of(&app, "/staff/patients", &token).await;
    assert!(first.contains("Patients 1–25 of 60."), "{engine:?}");
    let first_ids = attributes(&first, "data-patient");
    assert_eq!(first_ids.len(), 25);
    assert!(link(&first, "prev").is_none());

    // Added while the first page is on screen: one before its rows, one
    // between the pages' cursor and the end, one at the end.
    for family in ["Family001", "Family051", "Family119"] {
        let id = add_patient(&app.store, family, "+15035559999", "new@example.org").await;
        names.insert(id.to_string(), family.to_owned());
    }
    let mut seen = first_ids.clone();
    let mut next = link(&first, "next");
    let mut pages = 1;
    let mut second = String::new();
    while let Some(path) = next {
        let page = page_of(&app, &path, &token).await;
        if pages == 1 {
            second = page.clone();
        }
        seen.extend(attributes(&page, "data-patient"));
        next = link(&page, "next");
        pages += 1;
    }
    let families: Vec<&str> = seen.iter().map(|id| names[id].as_str()).collect();
    // In order, each once; the row added before the cursor is not on a
    // later page, the rows added after it are.
    let mut expected: Vec<String> = (0..120)
        .step_by(2)
        .map(|n| format!("Family{n:03}"))
        .collect();
    expected.extend(["Family051".to_owned(), "Family119".to_owned()]);
    expected.sort();
    assert_eq!(families, expected, "{engine:?}: skipped or repeated");
    assert_eq!(pages, 3, "{engine:?}");
    assert!(second.contains("Patients 27–51 of 63."), "{engine:?}");
    assert_eq!(names[&attributes(&second, "data-patient")[0]], "Family050");

    // Back from the second page: the 25 rows before it, which now
    // include the one added there.
    let back = page_of(&app, &link(&second, "prev").unwrap(), &token).await;
    let back_families: Vec<String> = attributes(&back, "data-patient")
        .iter()
        .map(|id| names[id].clone())
        .collect();
    assert_eq!(back_families.len(), 25);
    assert_eq!(back_families.last().unwrap(), "Family048");
    assert_eq!(back_families[0], "Family001", "{engine:?}");
    assert!(link(&back, "prev").is_some(), "Family000 is before it");
}

both_engines!(a_phone_number_is_found_from_any_fragment_in_any_formatting);
async fn a_phone_number_is_found_from_any_fragment_in_any_formatting(engine: Engine) {
    let app = spawn(engine).await;
    let wanted = add_patient(
        &app.store,
        "Okafor",
        "+13125550115",
        "ben.okafor@example.org",
    )
    .await;
    add_patient(&app.store, "Other", "+13125550116", "someone@example.net").await;
    add_patient(&app.store, "Third", "+442079460115", "third@example.co.uk").await;
    let token = app.sign_in(Role::FrontDesk).await;
    let found = |query: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let path = format!(
                "/staff/patients?q={}",
                encode(&[("", query)]).trim_start_matches('=')
            );
            attributes(&page_of(app, &path, &token).await, "data-patient")
        }
    };
    let wanted = wanted.to_string();
    for query in [
        "555-0115",
        "(312) 555-0115",
        "3125550115",
        "+1 312 555 0115",
        "+13125550115",
        "312.555.0115",
        "1-312-555-0115",
    ] {
        assert_eq!(
            found(query).await,
            vec![wanted.clone()],
            "{engine:?}: {query}"
        );
    }
    // A fragment that two numbers share finds both; three digits at least.
    assert_eq!(found("0115").await.len(), 2, "{engine:?}");
    assert_eq!(found("555-011").await.len(), 2, "{engine:?}");
    // By e-mail, MRN with or without its dash, and name either way round.
    assert_eq!(found("ben.okafor@").await, vec![wanted.clone()]);
    assert_eq!(found("T-OKAFOR").await, vec![wanted.clone()]);
    assert_eq!(found("tokafor").await, vec![wanted.clone()]);
    assert_eq!(found("okafor, given").await, vec![wanted.clone()]);
    assert_eq!(found("Given Okafor").await, vec![wanted.clone()]);
    assert!(
        found("%").await.is_empty(),
        "{engine:?}: wildcards are literal"
    );
    let none = page_of(&app, "/staff/patients?q=nobody", &token).await;
    assert!(none.contains("No patient matches."));
}

async fn add_condition(app: &TestApp, patient: i64, code: &str, display: &str) {
    let mut raw = app.raw().await;
    sqlx::query(
        "INSERT INTO conditions (patient_id, icd10cm_code, display, onset_date, diagnosed_by, \
         diagnosed_on) VALUES ($1, $2, $3, '2020-01-01', 'Dr Test', '2020-03-01')",
    )
    .bind(patient)
    .bind(code)
    .bind(display)
    .execute(&mut raw)
    .await
    .unwrap();
}

both_engines!(clinicians_find_patients_by_condition_and_the_front_desk_is_refused);
async fn clinicians_find_patients_by_condition_and_the_front_desk_is_refused(engine: Engine) {
    let app = spawn(engine).await;
    let back = add_patient(&app.store, "Back", "+15035550001", "b@example.org").await;
    let crps = add_patient(&app.store, "Crps", "+15035550002", "c@example.org").await;
    let migraine = add_patient(&app.store, "Migraine", "+15035550003", "m@example.org").await;
    add_condition(&app, back, "M54.50", "Low back pain, unspecified").await;
    add_condition(
        &app,
        crps,
        "G90.521",
        "Complex regional pain syndrome I of right lower limb",
    )
    .await;
    add_condition(&app, migraine, "G43.709", "Chronic migraine without aura").await;
    let clinician = app.sign_in(Role::Clinician).await;
    let found = |condition: &'static str| {
        let app = &app;
        let token = clinician.clone();
        async move {
            let path = format!(
                "/staff/patients?condition={}",
                encode(&[("", condition)]).trim_start_matches('=')
            );
            attributes(&page_of(app, &path, &token).await, "data-patient")
        }
    };
    let (back, crps, migraine) = (back.to_string(), crps.to_string(), migraine.to_string());
    assert_eq!(
        found("M54").await,
        vec![back.clone()],
        "{engine:?}: code prefix"
    );
    assert_eq!(
        found("m54.5").await,
        vec![back.clone()],
        "{engine:?}: any case, dot"
    );
    assert_eq!(
        found("M5450").await,
        vec![back.clone()],
        "{engine:?}: without the dot"
    );
    assert_eq!(
        found("back pain").await,
        vec![back.clone()],
        "{engine:?}: by name"
    );
    // "CRPS" is not in the stored display: the clinic's code table names it.
    assert_eq!(
        found("CRPS").await,
        vec![crps.clone()],
        "{engine:?}: by the code table"
    );
    assert_eq!(found("migraine").await, vec![migraine.clone()]);
    assert_eq!(found("G90").await, vec![crps.clone()], "{engine:?}");

    // The front desk sees the directory, but who has which diagnosis is
    // clinical: refused, and the refusal audited.
    let front_desk = app.sign_in(Role::FrontDesk).await;
    let plain = page_of(&app, "/staff/patients", &front_desk).await;
    assert!(
        !plain.contains("name=\"condition\""),
        "no condition field offered"
    );
    let before = app.audit_count().await;
    let refused = app
        .get("/staff/patients?condition=M54", Some(&front_desk))
        .await;
    assert_eq!(refused.status(), 403, "{engine:?}");
    assert!(!refused.text().await.unwrap().contains("Back, Given"));
    assert_eq!(app.audit_count().await, before + 1);
    let entry = &app
        .store
        .audit_entries(&AuditFilter {
            limit: 1,
            ..AuditFilter::default()
        })
        .await
        .unwrap()[0];
    assert_eq!(
        (entry.outcome.as_str(), entry.resource_type.as_str()),
        ("denied", "Patient")
    );
}

/// Stores a new inquiry from the web form with `name` and `phone`.
async fn add_inquiry(
    store: &Store,
    name: &str,
    phone: &str,
    windows: (&str, &str, &str),
    received: &str,
) -> i64 {
    let (days, start, end) = windows;
    let form = InquiryForm {
        name: name.into(),
        phone: phone.into(),
        preferred_channel: "phone".into(),
        window_days: days.into(),
        window_start: start.into(),
        window_end: end.into(),
        time_zone: "America/New_York".into(),
        pain_area: "back".into(),
        pain_duration: "1-5-years".into(),
        consent: true,
        ..InquiryForm::default()
    };
    store
        .insert_inquiry(&form.validate("US").unwrap(), received.parse().unwrap())
        .await
        .unwrap()
}

both_engines!(the_inquiry_queue_pages_by_status_and_finds_a_phone_fragment);
async fn the_inquiry_queue_pages_by_status_and_finds_a_phone_fragment(engine: Engine) {
    let app = spawn(engine).await;
    let mut ids = Vec::new();
    for n in 0..30 {
        let received = format!("2026-11-{:02}T{:02}:00:00Z", 1 + n / 10, 8 + n % 10);
        ids.push(
            add_inquiry(
                &app.store,
                &format!("Person {n:02}"),
                &format!("(312) 555-01{n:02}"),
                ("weekdays", "09:00", "17:00"),
                &received,
            )
            .await
            .to_string(),
        );
    }
    let token = app.sign_in(Role::FrontDesk).await;
    let first = page_of(&app, "/staff", &token).await;
    assert!(first.contains("<h1>New inquiries</h1>"));
    assert!(first.contains("Inquiries 1–25 of 30."), "{engine:?}");
    let mut seen = attributes(&first, "data-inquiry");
    // Oldest first: the queue's order.
    assert_eq!(seen[0], ids[0]);
    // A newer inquiry arrives: it is at the queue's end, on the next page.
    let late = add_inquiry(
        &app.store,
        "Late Person",
        "(312) 555-0199",
        ("weekdays", "09:00", "17:00"),
        "2026-11-20T08:00:00Z",
    )
    .await;
    let second = page_of(&app, &link(&first, "next").unwrap(), &token).await;
    seen.extend(attributes(&second, "data-inquiry"));
    ids.push(late.to_string());
    assert_eq!(seen, ids, "{engine:?}: each once, in order");
    assert!(link(&second, "next").is_none());

    let found = attributes(
        &page_of(&app, "/staff?q=555-0117", &token).await,
        "data-inquiry",
    );
    assert_eq!(found, vec![ids[17].clone()], "{engine:?}");
    let found = attributes(
        &page_of(&app, "/staff?q=person+17", &token).await,
        "data-inquiry",
    );
    assert_eq!(found, vec![ids[17].clone()], "{engine:?}");
    // Another tab: nobody has been contacted yet.
    let contacted = page_of(&app, "/staff?status=contacted", &token).await;
    assert!(contacted.contains("No inquiry matches."));
    let bad = app.get("/staff?status=everything", Some(&token)).await;
    assert_eq!(bad.status(), 422);
}

both_engines!(callbacks_page_and_filter_to_windows_open_now);
/// At Friday 27 November 2026 23:30Z (18:30 in New York).
async fn callbacks_page_and_filter_to_windows_open_now(engine: Engine) {
    let config = WebConfig {
        clock: Clock::Fixed("2026-11-27T23:30Z".parse().unwrap()),
        ..WebConfig::default()
    };
    let app = spawn_with(engine, config).await;
    // 27 with a window open now (New York weekdays 17–19), 3 opening on Monday.
    for n in 0..27 {
        add_inquiry(
            &app.store,
            &format!("Open {n:02}"),
            &format!("(312) 555-01{n:02}"),
            ("weekdays", "17:00", "19:00"),
            &format!("2026-11-27T{:02}:{:02}:00Z", 20 + n / 10, n % 10),
        )
        .await;
    }
    for n in 0..3 {
        add_inquiry(
            &app.store,
            &format!("Later {n}"),
            &format!("(503) 555-01{n:02}"),
            ("weekdays", "08:00", "09:00"),
            "2026-11-27T21:00:00Z",
        )
        .await;
    }
    let token = app.sign_in(Role::FrontDesk).await;
    let first = page_of(&app, "/staff/callbacks", &token).await;
    assert!(first.contains("Callbacks 1–25 of 30."), "{engine:?}");
    assert!(first.contains("Window open now (27)"));
    let mut tasks = attributes(&first, "data-task");
    let second = page_of(&app, &link(&first, "next").unwrap(), &token).await;
    tasks.extend(attributes(&second, "data-task"));
    let mut unique = tasks.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((tasks.len(), unique.len()), (30, 30), "{engine:?}");
    // In window order: the three later ones last.
    assert!(second.contains("Later 0") && second.contains("Later 2") && !first.contains("Later"));
    let openings: Vec<i64> = attributes(&first, "data-opening")
        .into_iter()
        .chain(attributes(&second, "data-opening"))
        .map(|o| o.parse().unwrap())
        .collect();
    assert!(openings.windows(2).all(|w| w[0] <= w[1]), "{engine:?}");

    let open = page_of(&app, "/staff/callbacks?open=1", &token).await;
    assert!(open.contains("Callbacks 1–25 of 27."), "{engine:?}");
    let rest = page_of(&app, &link(&open, "next").unwrap(), &token).await;
    assert_eq!(attributes(&rest, "data-task").len(), 2);
    assert!(!rest.contains("Later") && link(&rest, "next").is_none());
    assert!(link(&rest, "next").is_none() && link(&rest, "prev").unwrap().contains("open=1"));
    let search = page_of(&app, "/staff/callbacks?q=503-555-0101", &token).await;
    assert_eq!(attributes(&search, "data-task").len(), 1);
    assert!(search.contains("Later 1"));
    // Compact: the times on a line or two, the attempt form on one.
    assert!(first.contains("<ol class=\"callbacks compact\""));
}

both_engines!(the_audit_trail_pages_while_its_own_views_add_entries);
async fn the_audit_trail_pages_while_its_own_views_add_entries(engine: Engine) {
    let app = spawn(engine).await;
    let front_desk = app.sign_in(Role::FrontDesk).await;
    for _ in 0..70 {
        app.get("/staff", Some(&front_desk)).await;
    }
    let admin = app.sign_in(Role::Admin).await;
    let first = page_of(&app, "/staff/audit", &admin).await;
    let seqs = |page: &str| -> Vec<i64> {
        page.match_indices("<tr class=\"outcome-")
            .map(|(at, _)| {
                let cell = &page[at..];
                let start = cell.find("<td>").unwrap() + 4;
                let end = cell[start..].find("</td>").unwrap();
                cell[start..start + end].parse().unwrap()
            })
            .collect()
    };
    let one = seqs(&first);
    assert_eq!(one.len(), 50, "{engine:?}");
    // More entries while the page is read (this view, and more requests).
    for _ in 0..5 {
        app.get("/staff", Some(&front_desk)).await;
    }
    let second = page_of(&app, &link(&first, "next").unwrap(), &admin).await;
    let two = seqs(&second);
    assert_eq!(
        two[0],
        one[49] - 1,
        "{engine:?}: continues where the first page ended"
    );
    assert!(
        two.windows(2).all(|w| w[0] == w[1] + 1),
        "newest first, none skipped"
    );
    let filtered = page_of(&app, "/staff/audit?actor=admin%40clinic.test", &admin).await;
    assert!(seqs(&filtered).len() >= 2);
    assert!(!filtered.contains("front-desk@clinic.test</td>"));
}
