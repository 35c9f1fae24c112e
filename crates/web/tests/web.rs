//! Integration tests of the web application, each on SQLite and PostgreSQL.

mod booking;
mod callbacks;
mod email;
mod hardening;
mod messaging;
mod schedule;
mod support;

use std::time::Duration;

use respite_domain::{Permission, Role};
use respite_store::{AuditChainStatus, AuditFilter, Engine, InquiryStatus};
use respite_web::access::Access;
use respite_web::routes::route_specs;
use respite_web::WebConfig;
use support::*;

both_engines!(healthz_reports_the_database);
async fn healthz_reports_the_database(engine: Engine) {
    let app = spawn(engine).await;
    let response = app.get("/healthz", None).await;
    assert_eq!(response.status(), 200, "{engine:?}");
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"status":"ok","database":"ok"}"#
    );
    app.store.close().await;
    let response = app.get("/healthz", None).await;
    assert_eq!(
        response.status(),
        503,
        "{engine:?}: closed pool must report unavailable"
    );
}

#[tokio::test]
async fn an_inquiry_is_stored_normalised_and_acknowledged() {
    for engine in engines() {
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
}

#[tokio::test]
async fn invalid_inquiry_fields_are_named_kept_and_nothing_is_stored() {
    for engine in engines() {
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
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    for engine in engines() {
        let app = spawn(engine).await;
        let fields = inquiry_fields("No Token");
        let body = encode(&as_refs(&fields));
        let no_cookie = app
            .client
            .post(app.url("/inquiries"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={CSRF}&{body}"))
            .send()
            .await
            .unwrap();
        assert_eq!(no_cookie.status(), 403);
        let wrong = app
            .client
            .post(app.url("/inquiries"))
            .header("cookie", format!("respite_csrf={CSRF}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf=ffffffffffffffffffffffffffffffff&{body}"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 403);
        let cross_site = app
            .client
            .post(app.url("/inquiries"))
            .header("cookie", format!("respite_csrf={CSRF}"))
            .header("sec-fetch-site", "cross-site")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={CSRF}&{body}"))
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), 403);
        assert_eq!(app.store.count_inquiries().await.unwrap(), 0, "{engine:?}");
    }
}

/// Every route in the table: each protected one refuses an unsigned request
/// and every role the grant table does not name, and each route that touches
/// health data leaves an audit entry when allowed.
#[tokio::test]
async fn every_route_refuses_the_unsigned_and_the_wrong_role_and_audits_the_allowed() {
    for engine in engines() {
        let app = spawn(engine).await;
        // A record for routes that take an id.
        let fields = inquiry_fields("Route Test");
        app.post_form("/inquiries", None, &as_refs(&fields)).await;
        let patient_id = app
            .store
            .insert_patient(
                &respite_store::NewPatient {
                    mrn: "T-1",
                    given_name: "Test",
                    family_name: "Patient",
                    birth_date: jiff::civil::date(1970, 1, 1),
                    sex: "female",
                    phone_e164: None,
                    email: None,
                    time_zone: "America/Chicago",
                },
                jiff::Timestamp::now(),
            )
            .await
            .unwrap();
        let inquiry_id = app
            .store
            .inquiries_with_status(InquiryStatus::New, 1)
            .await
            .unwrap()[0]
            .id;
        let mut sessions = Vec::new();
        for role in Role::ALL {
            sessions.push((role, app.sign_in(role).await));
        }
        let front_desk = staff_id(&app, Role::FrontDesk).await;
        let availability_id = app
            .store
            .add_staff_availability(&respite_domain::booking::StaffAvailability {
                staff_user_id: front_desk,
                weekday: jiff::civil::Weekday::Tuesday,
                starts: jiff::civil::time(9, 0, 0, 0),
                ends: jiff::civil::time(10, 0, 0, 0),
            })
            .await
            .unwrap();

        let specs = route_specs();
        assert!(specs
            .iter()
            .any(|s| matches!(s.access, Access::Staff(Permission::ReadClinicalRecords))));
        let mut protected = 0;
        let task_id = app.store.open_callbacks(1).await.unwrap()[0].task_id;
        for spec in &specs {
            let id = if spec.path.contains("patients") {
                patient_id
            } else if spec.path.contains("callbacks") {
                task_id
            } else if spec.path.contains("availability") {
                availability_id
            } else {
                inquiry_id
            };
            // A valid form for each POST that takes one, so that an allowed
            // request does what it is for (the route is audited as such).
            let fields = valid_fields_for(spec.path, front_desk);
            let path = spec.path.replace("{id}", &id.to_string());
            let required = match spec.access {
                Access::Public => {
                    assert!(
                        !spec.path.starts_with("/staff") || spec.path == "/staff/login",
                        "{}: staff pages must not be public",
                        spec.path
                    );
                    continue;
                }
                Access::SignedIn => None,
                Access::Staff(permission) => Some(permission),
            };
            protected += 1;
            let fields = &fields;
            let send = |session: Option<String>| {
                let app = &app;
                let path = path.clone();
                async move {
                    if spec.method == "GET" {
                        app.get(&path, session.as_deref()).await
                    } else {
                        app.post_form(&path, session.as_deref(), &as_refs(fields))
                            .await
                    }
                }
            };

            // Unsigned: redirected to sign-in (GET) or 401, and audited.
            let before = app.audit_count().await;
            let response = send(None).await;
            let status = response.status().as_u16();
            if spec.method == "GET" {
                assert_eq!(status, 303, "{engine:?} unsigned GET {path}");
                let location = response.headers()["location"].to_str().unwrap();
                assert!(location.starts_with("/staff/login"), "{path} → {location}");
            } else {
                assert_eq!(status, 401, "{engine:?} unsigned {} {path}", spec.method);
            }
            let body = response.text().await.unwrap();
            assert!(
                !body.contains("Patient, Test") && !body.contains("Route Test"),
                "{path} leaked data"
            );
            if spec.audited.is_some() {
                assert_eq!(
                    app.audit_count().await,
                    before + 1,
                    "{path}: unsigned refusal not audited"
                );
            }

            for (role, token) in &sessions {
                let granted = required.is_none_or(|p| role.grants(p));
                let before = app.audit_count().await;
                let response = send(Some(token.clone())).await;
                let status = response.status().as_u16();
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                if granted {
                    assert!(
                        status != 401 && status != 403 && status < 500,
                        "{engine:?} {role} {} {path}: {status}",
                        spec.method
                    );
                    if let Some(audited) = spec.audited {
                        let entries = app
                            .store
                            .audit_entries(&AuditFilter {
                                limit: 1,
                                ..Default::default()
                            })
                            .await
                            .unwrap();
                        assert_eq!(
                            app.audit_count().await,
                            before + 1,
                            "{role} {path}: not audited"
                        );
                        let entry = &entries[0];
                        assert_eq!(entry.actor, format!("{}@clinic.test", role.as_str()));
                        assert_eq!(entry.resource_type, audited.resource);
                        // A second role converting the same inquiry is
                        // refused (409): audited as invalid, not success.
                        let outcome = if status < 400 { "success" } else { "invalid" };
                        assert_eq!(entry.outcome, outcome, "{role} {path}");
                        assert!(
                            status < 400 || spec.method == "POST",
                            "{role} {path}: {status}"
                        );
                        // A created chart is named by its patient id.
                        let created = location
                            .as_deref()
                            .and_then(|l| l.strip_prefix("/staff/patients/"));
                        if let Some(created) = created.filter(|_| audited.resource == "Patient") {
                            assert_eq!(entry.resource_id, created);
                        } else if spec.path.contains("{id}") {
                            assert_eq!(entry.resource_id, id.to_string());
                        }
                    }
                } else {
                    assert_eq!(status, 403, "{engine:?} {role} must be refused {path}");
                    let body = response.text().await.unwrap();
                    assert!(
                        !body.contains("Route Test") && !body.contains("T-1"),
                        "{path} leaked data"
                    );
                    let denied = app
                        .store
                        .audit_entries(&AuditFilter {
                            limit: 1,
                            ..Default::default()
                        })
                        .await
                        .unwrap();
                    if spec.audited.is_some() {
                        assert_eq!(app.audit_count().await, before + 1);
                        assert_eq!(denied[0].outcome, "denied", "{role} {path}");
                    }
                }
            }
            if spec.path == "/staff/logout" {
                // Signing out ended every session above: sign in again.
                sessions.clear();
                for role in Role::ALL {
                    sessions.push((role, app.sign_in(role).await));
                }
            }
        }
        assert!(
            protected >= 6,
            "too few protected routes enumerated: {protected}"
        );
        assert_eq!(
            app.store.verify_audit_chain().await.unwrap(),
            AuditChainStatus::Intact {
                entries: app.audit_count().await as i64
            }
        );
    }
}

#[tokio::test]
async fn repeated_failed_sign_ins_lock_the_account_for_a_while() {
    for engine in engines() {
        let app = spawn(engine).await;
        let email = "nurse@clinic.test";
        for attempt in 1..=5 {
            let response = app
                .post_form(
                    "/staff/login",
                    None,
                    &[("email", email), ("password", "wrong password!")],
                )
                .await;
            assert_eq!(response.status(), 401, "{engine:?} attempt {attempt}");
            assert!(session_from(&response).is_none());
        }
        let response = app
            .post_form(
                "/staff/login",
                None,
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(
            response.status(),
            429,
            "{engine:?}: the right password is refused while locked"
        );
        assert!(session_from(&response).is_none());
        // Another account is not affected.
        app.sign_in(Role::Clinician).await;
    }
}

#[tokio::test]
async fn sessions_end_after_the_idle_timeout_and_at_sign_out() {
    for engine in engines() {
        let config = WebConfig {
            idle_timeout: Duration::from_secs(1),
            ..WebConfig::default()
        };
        let app = spawn_with(engine, config).await;
        let token = app.sign_in(Role::FrontDesk).await;
        assert_eq!(app.get("/staff", Some(&token)).await.status(), 200);
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let response = app.get("/staff", Some(&token)).await;
        assert_eq!(
            response.status(),
            303,
            "{engine:?}: idle session must be signed out"
        );

        let app = spawn(engine).await;
        let token = app.sign_in(Role::FrontDesk).await;
        let out = app.post_form("/staff/logout", Some(&token), &[]).await;
        assert_eq!(out.status(), 303);
        assert_eq!(
            app.get("/staff", Some(&token)).await.status(),
            303,
            "{engine:?}: signed out"
        );
    }
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site() {
    let app = spawn(Engine::Sqlite).await;
    let email = "admin@clinic.test";
    let response = app
        .post_form(
            "/staff/login",
            None,
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("respite_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // The stored session is the token's hash, never the token.
    let token = session_from(&response).unwrap();
    let mut raw = app.raw().await;
    let (stored,): (String,) = sqlx::query_as("SELECT token_hash FROM staff_sessions")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored, respite_web::auth::token_hash(&token));
}

#[tokio::test]
async fn the_audit_trail_is_append_only_and_tamper_evident() {
    for engine in engines() {
        let app = spawn(engine).await;
        let token = app.sign_in(Role::Admin).await;
        app.get("/staff/patients", Some(&token)).await;
        app.get("/staff/audit", Some(&token)).await;
        let entries = app.audit_count().await;
        assert!(entries >= 3);
        assert_eq!(
            app.store.verify_audit_chain().await.unwrap(),
            AuditChainStatus::Intact {
                entries: entries as i64
            }
        );

        let mut raw = app.raw().await;
        let update = sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
            .execute(&mut raw)
            .await;
        assert!(update.is_err(), "{engine:?}: UPDATE must be refused");
        let delete = sqlx::query("DELETE FROM audit_log").execute(&mut raw).await;
        assert!(delete.is_err(), "{engine:?}: DELETE must be refused");
        assert_eq!(app.audit_count().await, entries);

        // Someone with the database owner's rights removes the guard and
        // edits a row: the chain shows where.
        let disable = match engine {
            Engine::Sqlite => "DROP TRIGGER audit_log_no_update",
            Engine::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
        };
        sqlx::query(disable).execute(&mut raw).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
            .execute(&mut raw)
            .await
            .unwrap();
        assert_eq!(
            app.store.verify_audit_chain().await.unwrap(),
            AuditChainStatus::BrokenAt { seq: 2 },
            "{engine:?}"
        );
        let page = app
            .get("/staff/audit", Some(&token))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("BROKEN at entry 2"),
            "{engine:?}: the admin page must show the break"
        );
    }
}

#[tokio::test]
async fn concurrent_inquiries_are_all_kept() {
    for engine in engines() {
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
}

#[tokio::test]
async fn patient_search_finds_by_name_mrn_and_phone_on_both_engines() {
    for engine in engines() {
        let app = spawn(engine).await;
        for (mrn, given, family, phone) in [
            ("A-1", "Ana", "López", "+15037253000"),
            ("A-2", "Ben", "Okafor", "+15415550100"),
            ("A-3", "Cleo", "Lopez-Smith", "+12065550101"),
        ] {
            app.store
                .insert_patient(
                    &respite_store::NewPatient {
                        mrn,
                        given_name: given,
                        family_name: family,
                        birth_date: jiff::civil::date(1980, 5, 5),
                        sex: "female",
                        phone_e164: Some(phone),
                        email: None,
                        time_zone: "America/Chicago",
                    },
                    jiff::Timestamp::now(),
                )
                .await
                .unwrap();
        }
        let names = |query: &'static str| {
            let store = app.store.clone();
            async move {
                store
                    .search_patients(query, 10)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|p| p.mrn)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(names("okafor").await, ["A-2"], "{engine:?}");
        assert_eq!(
            names("LOPEZ").await,
            ["A-3"],
            "{engine:?}: case-insensitive"
        );
        assert_eq!(names("a-1").await, ["A-1"], "{engine:?}: by MRN");
        assert_eq!(names("206555").await, ["A-3"], "{engine:?}: by phone");
        assert!(
            names("%").await.is_empty(),
            "{engine:?}: LIKE wildcards are literal"
        );
        let token = app.sign_in(Role::FrontDesk).await;
        let page = app
            .get("/staff/patients?q=okafor", Some(&token))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Okafor, Ben") && !page.contains("López"));
        // Front desk sees the directory but no link into the chart.
        assert!(
            !page.contains("/staff/patients/"),
            "front desk must not be offered charts"
        );
    }
}

#[tokio::test]
async fn sqlite_databases_are_in_wal_mode() {
    let app = spawn(Engine::Sqlite).await;
    let mut raw = app.raw().await;
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

/// A valid form for each POST route of the enumeration test (empty for the
/// others); `front_desk` is the front desk's user id (who consults).
fn valid_fields_for(path: &str, front_desk: i64) -> Vec<(&'static str, String)> {
    let front_desk = front_desk.to_string();
    let fields: &[(&'static str, &str)] = match path {
        "/staff/schedule/hours" => &[
            ("weekday", "saturday"),
            ("opens_1", "10:00"),
            ("closes_1", "14:00"),
        ],
        // Added, then removed by the next route.
        "/staff/schedule/holidays" => &[("day", "2099-12-24"), ("name", "Route test holiday")],
        "/staff/schedule/holidays/remove" => &[("day", "2099-12-24")],
        // Inside the default hours (weekdays 09:00–17:00).
        "/staff/schedule/availability" => &[
            ("staff_user_id", front_desk.as_str()),
            ("weekday", "monday"),
            ("starts", "09:00"),
            ("ends", "12:00"),
        ],
        "/staff/callbacks/{id}/attempts" => &[("outcome", "no-answer"), ("note", "")],
        // No staff member has availability in this test, so the slot is
        // refused by rule (422, audited as invalid): the route still runs.
        "/staff/inquiries/{id}/consultations" => &[("slot", "1@1795456800000")],
        "/staff/inquiries/{id}/email" => &[("subject", "Route test"), ("body", "Hello")],
        "/staff/inquiries/{id}/consultation" => &[
            ("pain_location", "Lower back"),
            ("pain_duration_amount", "18"),
            ("pain_duration_unit", "months"),
            ("next_step", "book-screening-visit"),
        ],
        "/staff/inquiries/{id}/chart" => &[
            ("given_name", "Route"),
            ("family_name", "Test"),
            ("birth_date", "1970-01-01"),
            ("sex", "female"),
        ],
        _ => &[],
    };
    fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

async fn staff_id(app: &TestApp, role: Role) -> i64 {
    let email = format!("{}@clinic.test", role.as_str());
    app.store
        .staff_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .unwrap()
        .id
}
