//! The controlled-substance register (SPEC §1 step 5; shared/clinical/dosing.md),
//! on SQLite and PostgreSQL: two draws at once cannot take a vial below zero;
//! no register row is ever updated or deleted, by the application or by raw
//! SQL; a waste needs a second licensed witness who confirms with their own
//! password when the clinic's setting says so; discrepancies are resolved
//! by clinicians and the administrator only; the export for inspection; bad
//! input names the field and the rule.

use respite_domain::Role;
use respite_store::{Engine, NewDraw};

use crate::support::*;

/// A received vial's id: 10 mL at 50 mg/mL (500 mg), received by `session`.
async fn receive(app: &TestApp, session: &str, vials: &str) -> Vec<i64> {
    let response = app
        .post_form(
            "/staff/register/receipts",
            Some(session),
            &[
                ("drug", "ketamine"),
                ("ndc", "0143-9508-10"),
                ("lot", "KX2291"),
                ("expiry", "2099-06-30"),
                ("concentration", "50"),
                ("volume_ml", "10"),
                ("vials", vials),
                ("supplier", "Cascade Medical Supply, DEA RC0000000"),
                ("note", "Invoice 4471"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let mut ids: Vec<i64> = app
        .store
        .vials_on_hand()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    ids.sort_unstable();
    ids
}

/// A patient with one infusion session of `total_mg`: (patient, session).
async fn patient_with_session(app: &TestApp, total_mg: f64) -> (i64, i64) {
    let patient = app
        .store
        .insert_patient(
            &respite_store::NewPatient {
                mrn: "T-REG",
                given_name: "Rita",
                family_name: "Register",
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
    let mut raw = app.raw().await;
    let (session,): (i64,) = sqlx::query_as(
        "INSERT INTO infusion_sessions (patient_id, started_at, protocol, total_mg, minutes) \
         VALUES ($1, $2, 'Test protocol', $3, 240) RETURNING id",
    )
    .bind(patient)
    .bind(jiff::Timestamp::now().as_millisecond())
    .bind(total_mg)
    .fetch_one(&mut raw)
    .await
    .unwrap();
    (patient, session)
}

async fn balance_mg(app: &TestApp, vial: i64) -> f64 {
    app.store.vial(vial).await.unwrap().unwrap().balance.mg()
}

async fn body(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

both_engines!(two_draws_at_once_cannot_take_a_vial_below_zero);
async fn two_draws_at_once_cannot_take_a_vial_below_zero(engine: Engine) {
    let app = spawn(engine).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let vial = receive(&app, &nurse, "1").await[0];
    let (patient, session) = patient_with_session(&app, 150.0).await;
    let value = format!("{patient}:{session}");
    let path = format!("/staff/register/vials/{vial}/draws");
    // Two people draw 6 mL (300 mg) of the 500 mg at the same moment.
    let fields = [("session", value.as_str()), ("amount", "6"), ("unit", "mL")];
    let (a, b) = tokio::join!(
        app.post_form(&path, Some(&nurse), &fields),
        app.post_form(&path, Some(&clinician), &fields),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [303, 409],
        "{engine:?}: exactly one draw succeeds"
    );
    let refused = if a.status() == 409 { a } else { b };
    let text = refused.text().await.unwrap();
    assert!(
        text.contains("Amount: is more than the vial holds (200 mg)"),
        "{text}"
    );
    assert_eq!(balance_mg(&app, vial).await, 200.0, "{engine:?}");

    // Through the store, eight at once of 100 mg from a fresh 500 mg vial:
    // exactly five, and the balance is exactly zero.
    let vial = receive(&app, &nurse, "1").await[1];
    let nurse_id = app.store.staff_users().await.unwrap()[0].id;
    let draws = (0..8).map(|_| {
        let store = app.store.clone();
        tokio::spawn(async move {
            store
                .record_draw(
                    &NewDraw {
                        vial_id: vial,
                        amount: respite_clinical::register::DrugAmount::from_mg(100.0).unwrap(),
                        patient_id: patient,
                        session_id: Some(session),
                        note: String::new(),
                    },
                    nurse_id,
                    jiff::Timestamp::now(),
                )
                .await
        })
    });
    let mut succeeded = 0;
    for draw in draws.collect::<Vec<_>>() {
        match draw.await.unwrap() {
            Ok(_) => succeeded += 1,
            Err(respite_store::StoreError::RegisterRefused { field, .. }) => {
                assert_eq!(field, "amount")
            }
            Err(other) => panic!("{engine:?}: {other}"),
        }
    }
    assert_eq!(succeeded, 5, "{engine:?}");
    assert_eq!(balance_mg(&app, vial).await, 0.0, "{engine:?}");
    let entries = app.store.vial_entries(vial).await.unwrap();
    // Each entry's balance is the one before it minus its draw.
    for pair in entries.windows(2) {
        assert_eq!(
            pair[1].balance.micrograms(),
            pair[0].balance.micrograms() + pair[1].change_ug
        );
    }
}

both_engines!(no_register_row_is_ever_updated_or_deleted);
async fn no_register_row_is_ever_updated_or_deleted(engine: Engine) {
    let app = spawn(engine).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let vial = receive(&app, &nurse, "1").await[0];
    let (patient, session) = patient_with_session(&app, 174.0).await;
    let value = format!("{patient}:{session}");
    let draw_path = format!("/staff/register/vials/{vial}/draws");
    let response = app
        .post_form(
            &draw_path,
            Some(&nurse),
            &[("session", &value), ("amount", "4"), ("unit", "mL")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let before = app.store.register_entries().await.unwrap();
    let draw = before.last().unwrap().id;

    // Every kind of write the application offers: each only adds.
    let vial_path = |what: &str| format!("/staff/register/vials/{vial}/{what}");
    let clinician_id = staff_id(&app, Role::Clinician).await;
    for (path, session, fields) in [
        (
            vial_path("administrations"),
            &nurse,
            vec![
                ("draw", draw.to_string()),
                ("amount", "174".into()),
                ("unit", "mg".into()),
            ],
        ),
        (
            vial_path("waste"),
            &nurse,
            vec![
                ("draw", draw.to_string()),
                ("amount", "26".into()),
                ("unit", "mg".into()),
                ("witness", clinician_id.to_string()),
                ("witness_password", PASSWORD.into()),
            ],
        ),
        (
            vial_path("corrections"),
            &clinician,
            vec![
                ("corrects", draw.to_string()),
                ("direction", "add".into()),
                ("amount", "1".into()),
                ("unit", "mg".into()),
                ("note", "Drawn 1 mg less than written".into()),
            ],
        ),
        (
            "/staff/register/counts".to_owned(),
            &nurse,
            vec![
                ("kind", "end-of-day".into()),
                ("business", "close".into()),
                (leak(format!("vial_{vial}")), "5".into()),
            ],
        ),
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = app.post_form(&path, Some(session), &fields).await;
        let (status, text) = body(response).await;
        assert_eq!(status, 303, "{engine:?} {path}: {text}");
    }
    let after = app.store.register_entries().await.unwrap();
    assert_eq!(after.len(), before.len() + 4, "{engine:?}");
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(
            format!("{old:?}"),
            format!("{new:?}"),
            "{engine:?}: an entry changed"
        );
    }
    let correction = after.iter().find(|e| e.corrects_id == Some(draw)).unwrap();
    assert_eq!(correction.change_ug, 1000);
    // 500 − 200 drawn + 1 corrected = 301 mg; counted 5 mL = 250 mg.
    assert_eq!(balance_mg(&app, vial).await, 301.0);

    // The database refuses a raw UPDATE or DELETE on every register table.
    let mut raw = app.raw().await;
    for sql in [
        "UPDATE register_entries SET balance_ug = balance_ug + 1000000",
        "DELETE FROM register_entries",
        "UPDATE register_vials SET lot = 'X'",
        "DELETE FROM register_vials",
        "UPDATE register_counts SET note = 'X'",
        "DELETE FROM register_counts",
    ] {
        let refused = sqlx::query(sql).execute(&mut raw).await.unwrap_err();
        assert!(
            refused.to_string().contains("append-only"),
            "{engine:?} {sql}: {refused}"
        );
    }
    assert_eq!(
        app.store.register_entries().await.unwrap().len(),
        after.len()
    );
    // The application has no route that deletes or edits a register row.
    for spec in respite_web::routes::route_specs() {
        if spec.path.starts_with("/staff/register") {
            assert!(matches!(spec.method, "GET" | "POST"), "{}", spec.path);
            assert!(
                !spec.path.contains("delete") && !spec.path.contains("edit"),
                "{}",
                spec.path
            );
        }
    }
}

/// One CSV line's fields (RFC 4180 quoting), read independently of the
/// server's writer.
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
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

both_engines!(a_waste_needs_another_licensed_witness_with_their_password);
async fn a_waste_needs_another_licensed_witness_with_their_password(engine: Engine) {
    let app = spawn(engine).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let admin = app.sign_in(Role::Admin).await;
    let vial = receive(&app, &nurse, "1").await[0];
    let path = format!("/staff/register/vials/{vial}/waste");
    let waste = |witness: String, password: &'static str| {
        vec![
            ("draw", String::new()),
            ("amount", "0.5".to_owned()),
            ("unit", "mL".to_owned()),
            ("witness", witness),
            ("witness_password", password.to_owned()),
            ("note", "Vial dropped, cracked".to_owned()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        let nurse = nurse.clone();
        let path = path.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            body(app.post_form(&path, Some(&nurse), &fields).await).await
        }
    };
    let nurse_id = staff_id(&app, Role::Nurse).await;
    let clinician_id = staff_id(&app, Role::Clinician).await;
    let front_desk_id = staff_id(&app, Role::FrontDesk).await;
    let check = |(status, text): (u16, String), expected_status: u16, rule: &str| {
        assert_eq!(status, expected_status, "{engine:?} {rule}: {text}");
        assert!(text.contains(rule), "{engine:?}: no {rule:?} in {text}");
    };
    check(
        send(waste(String::new(), "")).await,
        422,
        "Witness: is required",
    );
    check(
        send(waste(nurse_id.to_string(), PASSWORD)).await,
        422,
        "Witness: must be another person than the one recording the waste",
    );
    check(
        send(waste(front_desk_id.to_string(), PASSWORD)).await,
        422,
        "Witness: must be a licensed member of staff",
    );
    check(
        send(waste(clinician_id.to_string(), "")).await,
        422,
        "Witness&#39;s password: is required",
    );
    check(
        send(waste(clinician_id.to_string(), "not the password")).await,
        422,
        "Witness&#39;s password: is not the witness&#39;s password",
    );
    assert_eq!(balance_mg(&app, vial).await, 500.0, "nothing recorded");
    let (status, _) = send(waste(clinician_id.to_string(), PASSWORD)).await;
    assert_eq!(status, 303);
    assert_eq!(balance_mg(&app, vial).await, 475.0);
    let entries = app.store.vial_entries(vial).await.unwrap();
    assert_eq!(
        entries.last().unwrap().witness.as_deref(),
        Some("Clinician")
    );
    // The witness's confirmations are their own entries in the audit trail:
    // the wrong password denied, the right one a success.
    let witnessed: Vec<String> = app
        .store
        .audit_entries(&respite_store::AuditFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "witness")
        .map(|e| {
            format!(
                "{} {} {}/{}",
                e.actor, e.outcome, e.resource_type, e.resource_id
            )
        })
        .collect();
    assert_eq!(
        witnessed,
        [
            format!("clinician@clinic.test success DrugRegister/{vial}"),
            format!("clinician@clinic.test denied DrugRegister/{vial}"),
        ],
        "{engine:?}, newest first"
    );

    // The administrator turns the setting off (audited); then a waste
    // without a witness is recorded.
    let response = app
        .post_form(
            "/staff/register/settings",
            Some(&admin),
            &[("waste_witness_required", "no")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let audit = app
        .store
        .audit_entries(&respite_store::AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit[0].resource_type, "Organization");
    assert_eq!(audit[0].resource_id, "register-settings");
    let (status, text) = send(waste(String::new(), "")).await;
    assert_eq!(status, 303, "{text}");
    assert_eq!(balance_mg(&app, vial).await, 450.0);
    // A nurse cannot change the setting.
    let response = app
        .post_form(
            "/staff/register/settings",
            Some(&nurse),
            &[("waste_witness_required", "yes")],
        )
        .await;
    assert_eq!(response.status(), 403);
}

both_engines!(only_clinicians_and_administrators_resolve_a_discrepancy);
async fn only_clinicians_and_administrators_resolve_a_discrepancy(engine: Engine) {
    let app = spawn(engine).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let clinician = app.sign_in(Role::Clinician).await;
    let admin = app.sign_in(Role::Admin).await;
    let front_desk = app.sign_in(Role::FrontDesk).await;
    let vials = receive(&app, &nurse, "2").await;
    let count = |found: [&'static str; 2]| {
        let app = &app;
        let nurse = nurse.clone();
        let vials = vials.clone();
        async move {
            let a = format!("vial_{}", vials[0]);
            let b = format!("vial_{}", vials[1]);
            let fields = [
                ("kind", "end-of-day"),
                ("business", "close"),
                (a.as_str(), found[0]),
                (b.as_str(), found[1]),
            ];
            app.post_form("/staff/register/counts", Some(&nurse), &fields)
                .await
        }
    };
    // One vial 1 mL short: one discrepancy.
    assert_eq!(count(["10", "9"]).await.status(), 303);
    let open = app.store.discrepancies(10).await.unwrap();
    assert_eq!(open.len(), 1, "{engine:?}");
    let entry = open[0].count_entry.id;
    assert_eq!(open[0].expected.mg(), 500.0);
    assert_eq!(open[0].count_entry.amount.mg(), 450.0);
    let page = app
        .get("/staff/register", Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("A clinician or the administrator resolves it."));
    assert!(
        !page.contains("/resolve\""),
        "the nurse is shown no resolve form"
    );

    let path = format!("/staff/register/discrepancies/{entry}/resolve");
    let note = [(
        "note",
        "Found 1 mL spilled in the drawer; reported to the pharmacist",
    )];
    for refused in [&nurse, &front_desk] {
        let response = app.post_form(&path, Some(refused), &note).await;
        assert_eq!(response.status(), 403, "{engine:?}");
    }
    let (status, text) = body(
        app.post_form(&path, Some(&clinician), &[("note", " ")])
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(text.contains("Note: is required"), "{text}");
    let response = app.post_form(&path, Some(&clinician), &note).await;
    assert_eq!(response.status(), 303, "{engine:?}");
    assert_eq!(balance_mg(&app, vials[1]).await, 450.0);
    let (status, text) = body(app.post_form(&path, Some(&admin), &note).await).await;
    assert_eq!(status, 409, "{engine:?}");
    assert!(text.contains("Discrepancy: is resolved already"), "{text}");
    let resolved = app.store.discrepancies(10).await.unwrap();
    assert_eq!(
        resolved[0].resolution.as_ref().unwrap().recorded_by,
        "Clinician"
    );
    // The next count matches: no new discrepancy.
    assert_eq!(count(["10", "9"]).await.status(), 303);
    assert_eq!(app.store.discrepancies(10).await.unwrap().len(), 1);
    // A count that leaves out a vial on hand is refused.
    let a = format!("vial_{}", vials[0]);
    let (status, text) = body(
        app.post_form(
            "/staff/register/counts",
            Some(&nurse),
            &[("kind", "biennial"), ("business", "opening"), (&a, "10")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 409);
    assert!(text.contains("was not counted"), "{text}");
    // A full biennial inventory: the page says when the next is due.
    let b = format!("vial_{}", vials[1]);
    let response = app
        .post_form(
            "/staff/register/counts",
            Some(&nurse),
            &[
                ("kind", "biennial"),
                ("business", "opening"),
                (&a, "10"),
                (&b, "9"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = app
        .get("/staff/register", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    // Two years from today on the clinic's clock (the default zone).
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("America/Los_Angeles").unwrap())
        .date();
    let due = today.checked_add(jiff::Span::new().years(2)).unwrap();
    assert!(
        page.contains(&format!("The next biennial inventory is due by {due}")),
        "{engine:?}"
    );
    assert!(page.contains("Biennial inventory, at the opening of business"));
}

both_engines!(the_export_for_inspection_lists_every_entry_with_its_balance);
async fn the_export_for_inspection_lists_every_entry_with_its_balance(engine: Engine) {
    let app = spawn(engine).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let admin = app.sign_in(Role::Admin).await;
    let vial = receive(&app, &nurse, "1").await[0];
    let (patient, session) = patient_with_session(&app, 100.0).await;
    let value = format!("{patient}:{session}");
    let response = app
        .post_form(
            &format!("/staff/register/vials/{vial}/draws"),
            Some(&nurse),
            &[("session", &value), ("amount", "2.5"), ("unit", "mL")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let response = app.get("/staff/register/export.csv", Some(&nurse)).await;
    assert_eq!(response.status(), 403, "the nurse does not export");
    let response = app.get("/staff/register/export.csv", Some(&admin)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "entry,at,kind,vial,drug,schedule,ndc,lot,expiry,concentration_mg_per_ml,vial_ml,supplier,change_mg,\
         amount_mg,amount_ml,balance_mg,balance_ml,patient_id,patient,session_id,draw_entry,\
         witness,recorded_by,count_id,corrects_entry,note"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    let receipt = split_csv(lines[1]);
    assert_eq!(receipt[2], "receipt");
    assert_eq!(receipt[3], vial.to_string());
    assert_eq!(&receipt[4..6], ["ketamine", "III"]);
    assert_eq!(&receipt[6..9], ["0143-9508-10", "KX2291", "2099-06-30"]);
    assert_eq!(receipt[11], "Cascade Medical Supply, DEA RC0000000");
    assert_eq!(receipt[12], "500");
    assert_eq!(receipt[15], "500");
    assert_eq!(receipt[16], "10.000");
    // The patient's name holds a comma: quoted (RFC 4180).
    assert!(
        lines[2].contains(&format!(",draw,{vial},ketamine,III,"))
            && lines[2].contains(",-125,125,2.500,375,7.500,")
            && lines[2].contains(&format!(",{patient},\"Register, Rita\",{session},")),
        "{}",
        lines[2]
    );
}

both_engines!(bad_input_names_the_field_and_the_rule);
async fn bad_input_names_the_field_and_the_rule(engine: Engine) {
    let app = spawn(engine).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let vial = receive(&app, &nurse, "1").await[0];
    let good = [
        ("drug", "ketamine"),
        ("ndc", "0143-9508-10"),
        ("lot", "KX2291"),
        ("expiry", "2099-06-30"),
        ("concentration", "50"),
        ("volume_ml", "10"),
        ("vials", "1"),
        ("supplier", "Cascade Medical Supply"),
    ];
    let receipt_with = |field: &'static str, value: &'static str| {
        good.iter()
            .map(|(k, v)| if *k == field { (*k, value) } else { (*k, *v) })
            .collect::<Vec<_>>()
    };
    for (field, value, rule) in [
        ("expiry", "2000-01-01", "Expiry: is in the past"),
        ("expiry", "next year", "Expiry: must be a date"),
        ("vials", "-2", "Number of vials: must be from 1 to 200"),
        (
            "concentration",
            "-50",
            "Concentration: must be more than zero",
        ),
        ("volume_ml", "0", "Vial size: must be more than zero"),
        ("ndc", "12345", "NDC: must be the label"),
        ("lot", "", "Lot: is required"),
        ("drug", "", "Drug: choose the drug the vials hold"),
        ("drug", "diazepam", "Drug: choose the drug the vials hold"),
    ] {
        let (status, text) = body(
            app.post_form(
                "/staff/register/receipts",
                Some(&nurse),
                &receipt_with(field, value),
            )
            .await,
        )
        .await;
        assert_eq!(status, 422, "{engine:?} {field}={value}");
        // The register page again, with what was typed.
        assert!(text.contains("<h1>Controlled-substance register</h1>"));
        assert!(
            text.contains("Cascade Medical Supply"),
            "{field}: the supplier is kept"
        );
        assert!(
            text.contains(rule),
            "{engine:?} {field}={value}: no {rule:?}"
        );
    }
    let (patient, session) = patient_with_session(&app, 100.0).await;
    let value = format!("{patient}:{session}");
    let draw = |amount: &'static str| {
        let app = &app;
        let nurse = nurse.clone();
        let value = value.clone();
        async move {
            body(
                app.post_form(
                    &format!("/staff/register/vials/{vial}/draws"),
                    Some(&nurse),
                    &[("session", &value), ("amount", amount), ("unit", "mg")],
                )
                .await,
            )
            .await
        }
    };
    for (amount, rule) in [
        ("-5", "Amount: must not be negative"),
        ("0", "Amount: must be more than zero"),
        ("lots", "Amount: must be a number"),
    ] {
        let (status, text) = draw(amount).await;
        assert_eq!(status, 422, "{engine:?} {amount}");
        assert!(text.contains(rule), "{engine:?} {amount}: {text}");
    }
    let (status, text) = draw("500.5").await;
    assert_eq!(status, 409);
    assert!(
        text.contains("Amount: is more than the vial holds (500 mg)"),
        "{text}"
    );
    // Without a recorded session, the patient's MRN names who it is for.
    let by_mrn = |mrn: &'static str| {
        let app = &app;
        let nurse = nurse.clone();
        async move {
            body(
                app.post_form(
                    &format!("/staff/register/vials/{vial}/draws"),
                    Some(&nurse),
                    &[
                        ("session", ""),
                        ("mrn", mrn),
                        ("amount", "1"),
                        ("unit", "mL"),
                    ],
                )
                .await,
            )
            .await
        }
    };
    let (status, text) = by_mrn("").await;
    assert_eq!(status, 422);
    assert!(
        text.contains("Infusion session: choose the infusion session, or give the patient"),
        "{text}"
    );
    let (status, text) = by_mrn("NOBODY").await;
    assert_eq!(status, 422);
    assert!(
        text.contains("Patient&#39;s MRN: is not a patient of the clinic"),
        "{text}"
    );
    let (status, text) = by_mrn("T-REG").await;
    assert_eq!(status, 303, "{text}");
    let drawn = app.store.vial_entries(vial).await.unwrap();
    let drawn = drawn.last().unwrap();
    assert_eq!((drawn.patient_id, drawn.session_id), (Some(patient), None));
    assert_eq!(balance_mg(&app, vial).await, 450.0);
    // An unknown vial: 404 in the path, named by field in a count.
    let response = app
        .post_form(
            "/staff/register/vials/424242/draws",
            Some(&nurse),
            &[("session", &value), ("amount", "1"), ("unit", "mg")],
        )
        .await;
    assert_eq!(response.status(), 404);
    let (status, text) = body(
        app.post_form(
            "/staff/register/counts",
            Some(&nurse),
            &[
                ("kind", "end-of-day"),
                ("business", "close"),
                ("vial_424242", "1"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        text.contains("Vial: 424242 is not a vial of the register"),
        "{text}"
    );
    let (status, text) = body(
        app.post_form(
            "/staff/register/counts",
            Some(&nurse),
            &[
                ("kind", "end-of-day"),
                ("business", "close"),
                (leak(format!("vial_{vial}")), "-1"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(text.contains("Count: vial"), "{text}");
    assert!(text.contains("must not be negative"), "{text}");
    assert_eq!(
        balance_mg(&app, vial).await,
        450.0,
        "nothing more was recorded"
    );
    assert!(app.store.register_counts(5).await.unwrap().is_empty());

    // A vial that expired on the shelf (received when it was in date): no
    // draw from it.
    let mut raw = app.raw().await;
    let nurse_id = staff_id(&app, Role::Nurse).await;
    let now = jiff::Timestamp::now().as_millisecond();
    let (expired,): (i64,) = sqlx::query_as(
        "INSERT INTO register_vials (ndc, lot, expiry, concentration_mg_per_ml, volume_ml, \
         content_ug, supplier, received_at, received_by) \
         VALUES ('0143-9508-10', 'OLD1', '2001-01-01', 50.0, 10.0, 500000, 'Test', $1, $2) RETURNING id",
    )
    .bind(now)
    .bind(nurse_id)
    .fetch_one(&mut raw)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO register_entries (vial_id, kind, at, recorded_by, change_ug, amount_ug, \
         balance_ug, note) VALUES ($1, 'receipt', $2, $3, 500000, 500000, 500000, '')",
    )
    .bind(expired)
    .bind(now)
    .bind(nurse_id)
    .execute(&mut raw)
    .await
    .unwrap();
    let (status, text) = body(
        app.post_form(
            &format!("/staff/register/vials/{expired}/draws"),
            Some(&nurse),
            &[("session", &value), ("amount", "1"), ("unit", "mL")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(text.contains("Vial: expired on 2001-01-01"), "{text}");
    assert_eq!(balance_mg(&app, expired).await, 500.0);
}

both_engines!(the_demo_register_reconciles_but_for_one_open_discrepancy);
async fn the_demo_register_reconciles_but_for_one_open_discrepancy(engine: Engine) {
    let app = spawn(engine).await;
    let consulting = vec![
        staff_id(&app, Role::FrontDesk).await,
        staff_id(&app, Role::Clinician).await,
    ];
    let size = respite_store::demo::DemoSize {
        patients: 24,
        inquiries: 4,
    };
    let summary = respite_store::demo::seed(&app.store, jiff::Timestamp::now(), size, &consulting)
        .await
        .unwrap();
    assert!(summary.infusion_sessions > 0);
    let entries = app.store.register_entries().await.unwrap();
    // A draw for every session, each accounted for by what was given and
    // wasted; the dose given is the session's.
    let mut raw = app.raw().await;
    let sessions: Vec<(i64, f64)> = sqlx::query_as("SELECT id, total_mg FROM infusion_sessions")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    assert_eq!(sessions.len(), summary.infusion_sessions);
    for (session, total_mg) in &sessions {
        let given: i64 = entries
            .iter()
            .filter(|e| {
                e.session_id == Some(*session)
                    && e.kind == respite_store::RegisterEntryKind::Administration
            })
            .map(|e| e.amount.micrograms())
            .sum();
        assert_eq!(
            given,
            (total_mg * 1000.0).round() as i64,
            "session {session}"
        );
    }
    for vial in app.store.all_vials().await.unwrap() {
        assert!(
            app.store.open_draws(vial.id).await.unwrap().is_empty(),
            "vial {}",
            vial.id
        );
        let ledger = app.store.vial_entries(vial.id).await.unwrap();
        let mut balance = 0;
        for entry in &ledger {
            balance += entry.change_ug;
            assert_eq!(entry.balance.micrograms(), balance, "entry {}", entry.id);
        }
    }
    for waste in entries
        .iter()
        .filter(|e| e.kind == respite_store::RegisterEntryKind::Waste)
    {
        assert!(
            waste.witness.is_some(),
            "waste {} has its witness",
            waste.id
        );
    }
    let discrepancies = app.store.discrepancies(100).await.unwrap();
    assert_eq!(discrepancies.len(), 1, "{engine:?}");
    assert!(discrepancies[0].resolution.is_none());
    let counts = app.store.register_counts(100).await.unwrap();
    assert!(counts
        .iter()
        .any(|c| c.kind == respite_store::CountKind::Biennial));
    assert_eq!(counts.iter().map(|c| c.discrepancies).sum::<i64>(), 1);
}
