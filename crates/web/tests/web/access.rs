//! Who may reach what: the CSRF check and every route of the table against every role.

use respite_domain::{Permission, Role};
use respite_store::{AuditChainStatus, AuditFilter, InquiryStatus};
use respite_web::access::Access;
use respite_web::routes::route_specs;

use crate::support::*;

both_engines!(forms_without_the_csrf_token_are_refused);
async fn forms_without_the_csrf_token_are_refused(engine: Engine) {
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

both_engines!(every_route_refuses_the_unsigned_and_the_wrong_role_and_audits_the_allowed);
/// Every route in the table: each protected one refuses an unsigned request
/// and every role the grant table does not name, and each route that touches
/// health data leaves an audit entry when allowed.
async fn every_route_refuses_the_unsigned_and_the_wrong_role_and_audits_the_allowed(
    engine: Engine,
) {
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
