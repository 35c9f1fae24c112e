//! Controlled rescue drugs are drawn from the controlled-substance register
//! (SPEC §1 step 5; dosing.md, "Monitoring during a session"): midazolam is
//! DEA Schedule IV (21 CFR 1308.14(c)), received into the register like
//! ketamine; a session's midazolam is drawn from a midazolam vial, given
//! and recorded in one transaction, the rest wasted with a witness; a
//! drug not controlled takes no vial; the ketamine draw takes ketamine
//! vials only. On SQLite and PostgreSQL.

use respite_domain::Role;
use respite_store::{Engine, NewDraw, StoreError};

use crate::orders::staff_id;
use crate::sessions::{act, checked_order, open, ready_to_start, start};
use crate::support::*;

const MIDAZOLAM: &str = "midazolam (benzodiazepine)";

/// Receives `vials` vials of `drug` (`ketamine`: 50 mg/mL × 10 mL;
/// `midazolam`: 1 mg/mL × 5 mL); returns the new vials' ids.
async fn receive(app: &TestApp, session: &str, drug: &str, vials: &str) -> Vec<i64> {
    let before: Vec<i64> = app
        .store
        .all_vials()
        .await
        .unwrap()
        .iter()
        .map(|v| v.id)
        .collect();
    let (ndc, lot, concentration, volume) = match drug {
        "midazolam" => ("0641-6057-10", "MZ-7731", "1", "5"),
        _ => ("0143-9508-10", "KX2291", "50", "10"),
    };
    let response = app
        .post_form(
            "/staff/register/receipts",
            Some(session),
            &[
                ("drug", drug),
                ("ndc", ndc),
                ("lot", lot),
                ("expiry", "2099-06-30"),
                ("concentration", concentration),
                ("volume_ml", volume),
                ("vials", vials),
                ("supplier", "Cascade Medical Supply, DEA RC0000000"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    app.store
        .all_vials()
        .await
        .unwrap()
        .iter()
        .map(|v| v.id)
        .filter(|id| !before.contains(id))
        .collect()
}

async fn balance_mg(app: &TestApp, vial: i64) -> f64 {
    app.store.vial(vial).await.unwrap().unwrap().balance.mg()
}

async fn text(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// A running session of a checked order: (session, patient, nurse).
async fn running_session(app: &TestApp, mrn: &str) -> (i64, i64, String) {
    let (order_id, patient, _, nurse) = checked_order(app, mrn).await;
    let session = open(app, &nurse, order_id).await;
    ready_to_start(app, &nurse, session).await;
    start(app, &nurse, session).await;
    (session, patient, nurse)
}

/// How much is written: register entries, session events, the version.
async fn written(app: &TestApp, session: i64) -> (usize, usize, i64) {
    let s = app.store.infusion_session(session).await.unwrap().unwrap();
    (
        app.store.register_entries().await.unwrap().len(),
        s.events.len(),
        s.version,
    )
}

both_engines!(a_midazolam_receipt_shows_its_drug_everywhere);
async fn a_midazolam_receipt_shows_its_drug_everywhere(engine: Engine) {
    let app = spawn(engine).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let admin = app.sign_in(Role::Admin).await;
    let ketamine = receive(&app, &nurse, "ketamine", "1").await[0];
    let midazolam = receive(&app, &nurse, "midazolam", "2").await;
    assert_eq!(midazolam.len(), 2);
    let vial = app.store.vial(midazolam[0]).await.unwrap().unwrap();
    assert_eq!(
        vial.drug,
        respite_clinical::register::RegisterDrug::Midazolam
    );
    assert_eq!(vial.balance.mg(), 5.0, "1 mg/mL × 5 mL");
    assert_eq!(
        app.store.vial(ketamine).await.unwrap().unwrap().drug,
        respite_clinical::register::RegisterDrug::Ketamine
    );

    let (status, page) = text(app.get("/staff/register", Some(&nurse)).await).await;
    assert_eq!(status, 200);
    assert!(page.contains("DEA Schedule IV (21 CFR 1308.14)"), "{page}");
    assert!(
        page.contains(&format!(
            "<tr data-vial=\"{}\">\n    <td><a href=\"/staff/register/vials/{0}\">Vial {0}</a></td>\n    <td class=\"drug\" data-drug=\"midazolam\">Midazolam</td>",
            midazolam[0]
        )),
        "{page}"
    );
    let (status, page) = text(
        app.get(
            &format!("/staff/register/vials/{}", midazolam[0]),
            Some(&nurse),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("<h1>Midazolam, vial {}</h1>", midazolam[0])));
    assert!(page.contains("Midazolam injection (as the hydrochloride), DEA Schedule IV"));
    assert!(page.contains("5 mg (5 mL)"), "{page}");
    // No session is offered for a midazolam vial's draw here.
    assert!(page.contains("id=\"rescue-hint\""), "{page}");
    let (_, page) = text(app.get("/staff/register/count", Some(&nurse)).await).await;
    assert!(page.contains(&format!("Midazolam, vial {}", midazolam[0])));
    assert!(page.contains(&format!("Ketamine, vial {ketamine}")));
    // A count's totals are per drug: mg of two drugs are not added.
    let response = app
        .post_form(
            "/staff/register/counts",
            Some(&nurse),
            &[
                ("kind", "end-of-day"),
                ("business", "close"),
                (format!("vial_{ketamine}").as_str(), "10"),
                (format!("vial_{}", midazolam[0]).as_str(), "5"),
                (format!("vial_{}", midazolam[1]).as_str(), "5"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (_, page) = text(app.get("/staff/register", Some(&nurse)).await).await;
    assert!(
        page.contains("<td>500 mg ketamine; 10 mg midazolam</td>"),
        "{page}"
    );

    let csv = app
        .get("/staff/register/export.csv", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains(&format!(
            ",receipt,{},midazolam,IV,0641-6057-10,MZ-7731,",
            midazolam[0]
        )),
        "{csv}"
    );
    assert!(csv.contains(&format!(",receipt,{ketamine},ketamine,III,")));

    // Midazolam comes as 1 or 5 mg/mL: 10 mg/mL is refused, naming why.
    let (status, page) = text(
        app.post_form(
            "/staff/register/receipts",
            Some(&nurse),
            &[
                ("drug", "midazolam"),
                ("ndc", "0641-6057-10"),
                ("lot", "MZ-1"),
                ("expiry", "2099-06-30"),
                ("concentration", "10"),
                ("volume_ml", "5"),
                ("vials", "1"),
                ("supplier", "Cascade"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Concentration: must be at most 5 mg/mL (midazolam comes as 1 or 5 mg/mL)"),
        "{page}"
    );
}

both_engines!(a_sessions_midazolam_is_drawn_given_and_its_rest_wasted);
async fn a_sessions_midazolam_is_drawn_given_and_its_rest_wasted(engine: Engine) {
    let app = spawn(engine).await;
    let (session, patient, nurse) = running_session(&app, "R-1").await;
    let vial = receive(&app, &nurse, "midazolam", "1").await[0];
    // The session page offers the midazolam vial for the rescue drug.
    let (_, page) = text(
        app.get(&format!("/staff/sessions/{session}"), Some(&nurse))
            .await,
    )
    .await;
    assert!(
        page.contains(&format!(
            "<option value=\"{vial}\" >Midazolam · vial {vial} · lot MZ-7731 · 1 mg/mL · 5 mg left</option>"
        )),
        "{page}"
    );
    assert!(page.contains("is controlled, DEA Schedule IV (21 CFR 1308.14)"));

    let vial_text = vial.to_string();
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "rescue-drug"),
            ("drug", MIDAZOLAM),
            ("dose_mg", "2"),
            ("reason", "distressing dissociation"),
            ("vial", &vial_text),
            ("drawn_mg", "3"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{engine:?}: {body}");
    // The vial's balance drops by the draw; the draw and the dose given
    // name the session and the patient.
    assert_eq!(balance_mg(&app, vial).await, 2.0);
    let entries = app.store.session_register_entries(session).await.unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let (draw, given) = (&entries[0], &entries[1]);
    assert_eq!(draw.kind, respite_store::RegisterEntryKind::Draw);
    assert_eq!(draw.amount.mg(), 3.0);
    assert_eq!(draw.patient_id, Some(patient));
    assert_eq!(draw.vial_id, vial);
    assert_eq!(given.kind, respite_store::RegisterEntryKind::Administration);
    assert_eq!(given.amount.mg(), 2.0);
    assert_eq!(given.draw_id, Some(draw.id));
    let s = app.store.infusion_session(session).await.unwrap().unwrap();
    let event = s.events.iter().find(|e| e.kind == "rescue-drug").unwrap();
    assert_eq!(event.drug.as_deref(), Some(MIDAZOLAM));
    assert_eq!(event.amount_mg, Some(2.0));

    // The session shows both entries and the rest to waste.
    let (_, page) = text(
        app.get(&format!("/staff/sessions/{session}"), Some(&nurse))
            .await,
    )
    .await;
    let label = format!("Midazolam, vial {vial} · lot MZ-7731");
    assert!(page.contains(&format!("<td data-label=\"Entry\">Drawn</td><td data-label=\"Vial\"><a href=\"/staff/register/vials/{vial}\">{label}</a></td><td data-label=\"Amount\">3 mg</td>")), "{page}");
    assert!(page.contains(&format!("<td data-label=\"Entry\">Given</td><td data-label=\"Vial\"><a href=\"/staff/register/vials/{vial}\">{label}</a></td><td data-label=\"Amount\">2 mg</td>")));
    assert!(
        page.contains(&format!("id=\"rescue-draw-{}\"", draw.id)),
        "{page}"
    );
    assert!(page.contains("1 mg of the rescue drug's draw is left"));
    // The register's vial page: the draw is open, 1 mg left.
    let open = app.store.open_draws(vial).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].unaccounted.mg(), 1.0);

    // What the pump delivered is ketamine: not recorded from this draw.
    let draw_text = draw.id.to_string();
    let (status, body) = text(
        app.post_form(
            &format!("/staff/sessions/{session}/administrations"),
            Some(&nurse),
            &[("draw", &draw_text), ("amount_mg", "1")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("choose one of this session&#39;s ketamine draws"),
        "{body}"
    );
    assert_eq!(
        app.store.open_draws(vial).await.unwrap()[0]
            .unaccounted
            .mg(),
        1.0
    );

    // The rest is wasted with a witness, on the existing path.
    let clinician = staff_id(&app, Role::Clinician).await.to_string();
    let draw_id = draw.id.to_string();
    let (status, body) = text(
        app.post_form(
            &format!("/staff/register/vials/{vial}/waste"),
            Some(&nurse),
            &[
                ("draw", &draw_id),
                ("amount", "1"),
                ("unit", "mg"),
                ("witness", &clinician),
                ("witness_password", PASSWORD),
                ("note", "rest of the syringe"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(app.store.open_draws(vial).await.unwrap().is_empty());
    assert_eq!(
        balance_mg(&app, vial).await,
        2.0,
        "a draw's waste leaves the vial"
    );
    let entries = app.store.session_register_entries(session).await.unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries[2].witness.is_some());
    let (_, page) = text(
        app.get(&format!("/staff/sessions/{session}"), Some(&nurse))
            .await,
    )
    .await;
    assert!(!page.contains("rescue-draw-"), "nothing left to waste");
}

both_engines!(a_controlled_rescue_drug_is_refused_without_its_own_vial_and_nothing_is_written);
async fn a_controlled_rescue_drug_is_refused_without_its_own_vial_and_nothing_is_written(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let (session, _, nurse) = running_session(&app, "R-2").await;
    let ketamine = receive(&app, &nurse, "ketamine", "1").await[0].to_string();
    let midazolam = receive(&app, &nurse, "midazolam", "1").await[0];
    let midazolam_text = midazolam.to_string();
    let before = written(&app, session).await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![],
            "Vial: midazolam is a controlled substance, DEA Schedule IV (21 CFR 1308.14): choose the vial of midazolam",
        ),
        (
            vec![("vial", &ketamine)],
            "Vial: that is a vial of ketamine; a dose of midazolam is drawn from a vial of midazolam.",
        ),
        (
            vec![("vial", &midazolam_text), ("drawn_mg", "6")],
            "Amount drawn: 6 mg is more than the vial holds (5 mg).",
        ),
        (
            vec![("vial", &midazolam_text), ("drawn_mg", "1")],
            "Amount drawn: the dose of 2 mg is more than the 1 mg drawn.",
        ),
        (
            vec![("vial", "999999")],
            "Vial: there is no such vial in the register",
        ),
    ];
    for (extra, rule) in cases {
        let mut fields = vec![
            ("action", "rescue-drug"),
            ("drug", MIDAZOLAM),
            ("dose_mg", "2"),
            ("reason", "agitation"),
        ];
        fields.extend(extra);
        let (status, body) = act(&app, &nurse, session, &fields).await;
        assert_eq!(status, 422, "{engine:?} {rule}");
        let body = body.replace("&#x27;", "'").replace("&#39;", "'");
        assert!(body.contains(rule), "{engine:?}: no {rule:?} in {body}");
        // The refused form keeps what was typed.
        assert!(body.contains("value=\"agitation\""), "{body}");
        assert_eq!(written(&app, session).await, before, "{engine:?} {rule}");
    }
    assert_eq!(balance_mg(&app, midazolam).await, 5.0);

    // A drug not controlled takes no vial: refused with one.
    let (status, body) = act(
        &app,
        &nurse,
        session,
        &[
            ("action", "rescue-drug"),
            ("drug", "ondansetron (antiemetic)"),
            ("dose_mg", "4"),
            ("reason", "nausea"),
            ("vial", &midazolam_text),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("Vial: ondansetron is not a controlled substance"),
        "{body}"
    );
    assert_eq!(written(&app, session).await, before);
}

both_engines!(a_rescue_drug_not_controlled_needs_no_vial);
async fn a_rescue_drug_not_controlled_needs_no_vial(engine: Engine) {
    let app = spawn(engine).await;
    let (session, _, nurse) = running_session(&app, "R-3").await;
    for (drug, dose) in [
        ("ondansetron (antiemetic)", "4"),
        ("clonidine (α2-agonist)", "0.1"),
    ] {
        let (status, body) = act(
            &app,
            &nurse,
            session,
            &[
                ("action", "rescue-drug"),
                ("drug", drug),
                ("dose_mg", dose),
                ("reason", "as the protocol allows"),
            ],
        )
        .await;
        assert_eq!(status, 303, "{engine:?} {drug}: {body}");
    }
    assert!(app
        .store
        .session_register_entries(session)
        .await
        .unwrap()
        .is_empty());
    let s = app.store.infusion_session(session).await.unwrap().unwrap();
    assert_eq!(
        s.events.iter().filter(|e| e.kind == "rescue-drug").count(),
        2
    );
}

both_engines!(the_ketamine_draw_takes_ketamine_vials_only);
async fn the_ketamine_draw_takes_ketamine_vials_only(engine: Engine) {
    let app = spawn(engine).await;
    let (session, patient, nurse) = running_session(&app, "R-4").await;
    let ketamine = receive(&app, &nurse, "ketamine", "1").await[0];
    let midazolam = receive(&app, &nurse, "midazolam", "1").await[0];
    // The session page lists only ketamine vials for the infusion's draw.
    let (_, page) = text(
        app.get(&format!("/staff/sessions/{session}"), Some(&nurse))
            .await,
    )
    .await;
    let draw_form = page.split("id=\"draw-form\"").nth(1).unwrap();
    let draw_form = draw_form.split("</form>").next().unwrap();
    assert!(draw_form.contains(&format!("<option value=\"{ketamine}\">")));
    assert!(!draw_form.contains(&format!("<option value=\"{midazolam}\">")));
    let before = app.store.register_entries().await.unwrap().len();
    let (status, body) = text(
        app.post_form(
            &format!("/staff/sessions/{session}/draws"),
            Some(&nurse),
            &[("vial", &midazolam.to_string()), ("amount_ml", "1")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{engine:?}");
    assert!(
        body.contains("Vial: that is a vial of midazolam; the infusion&#39;s draw is of ketamine."),
        "{body}"
    );
    // The register's vial page: a session's draw from a midazolam vial.
    let value = format!("{patient}:{session}");
    let (status, body) = text(
        app.post_form(
            &format!("/staff/register/vials/{midazolam}/draws"),
            Some(&nurse),
            &[("session", &value), ("amount", "1"), ("unit", "mL")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{engine:?}");
    assert!(body.contains("Vial: is a vial of midazolam"), "{body}");
    // The store refuses it too, whoever calls it.
    let refused = app
        .store
        .record_draw(
            &NewDraw {
                vial_id: midazolam,
                amount: respite_clinical::register::DrugAmount::from_mg(1.0).unwrap(),
                patient_id: patient,
                session_id: Some(session),
                note: String::new(),
            },
            staff_id(&app, Role::Nurse).await,
            jiff::Timestamp::now(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::RegisterRefused { field: "vial", .. }),
        "{refused:?}"
    );
    assert_eq!(app.store.register_entries().await.unwrap().len(), before);
    assert_eq!(balance_mg(&app, midazolam).await, 5.0);
    // The ketamine vial is drawn as before.
    let (status, body) = text(
        app.post_form(
            &format!("/staff/sessions/{session}/draws"),
            Some(&nurse),
            &[("vial", &ketamine.to_string()), ("amount_ml", "2")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(balance_mg(&app, ketamine).await, 400.0);
}

both_engines!(the_vials_drug_keeps_the_register_append_only);
async fn the_vials_drug_keeps_the_register_append_only(engine: Engine) {
    let app = spawn(engine).await;
    let nurse = app.sign_in(Role::Nurse).await;
    receive(&app, &nurse, "midazolam", "1").await;
    let mut raw = app.raw().await;
    for sql in [
        "UPDATE register_vials SET drug = 'ketamine'",
        "DELETE FROM register_vials",
    ] {
        let refused = sqlx::query(sql).execute(&mut raw).await.unwrap_err();
        assert!(
            refused.to_string().contains("append-only"),
            "{engine:?} {sql}: {refused}"
        );
    }
    // Only the register's drugs: a vial of another is refused by the CHECK.
    let staff = staff_id(&app, Role::Nurse).await;
    let refused = sqlx::query(
        "INSERT INTO register_vials (ndc, lot, expiry, concentration_mg_per_ml, volume_ml, \
         content_ug, supplier, received_at, received_by, drug) \
         VALUES ('1', '1', '2099-01-01', 5, 1, 5000, 'x', 0, $1, 'diazepam')",
    )
    .bind(staff)
    .execute(&mut raw)
    .await;
    assert!(refused.is_err(), "{engine:?}");
    let vials = app.store.all_vials().await.unwrap();
    assert_eq!(vials.len(), 1);
}

both_engines!(the_demo_holds_sealed_midazolam_vials_counted_with_the_rest);
async fn the_demo_holds_sealed_midazolam_vials_counted_with_the_rest(engine: Engine) {
    let app = spawn(engine).await;
    let consulting = vec![
        staff_id(&app, Role::FrontDesk).await,
        staff_id(&app, Role::Clinician).await,
    ];
    let size = respite_store::demo::DemoSize {
        patients: 24,
        inquiries: 4,
    };
    respite_store::demo::seed(&app.store, jiff::Timestamp::now(), size, &consulting)
        .await
        .unwrap();
    let midazolam: Vec<_> = app
        .store
        .vials_on_hand()
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.drug == respite_clinical::register::RegisterDrug::Midazolam)
        .collect();
    assert_eq!(midazolam.len(), 10, "{engine:?}");
    for vial in &midazolam {
        assert_eq!(vial.balance.mg(), 2.0, "1 mg/mL × 2 mL, sealed");
        let ledger = app.store.vial_entries(vial.id).await.unwrap();
        let last_count = ledger
            .iter()
            .rev()
            .find(|e| e.kind == respite_store::RegisterEntryKind::Count)
            .expect("counted");
        assert_eq!(last_count.amount, vial.balance, "no discrepancy");
    }
    // Still exactly the one open discrepancy of the demo (a ketamine vial).
    let discrepancies = app.store.discrepancies(100).await.unwrap();
    assert_eq!(discrepancies.len(), 1);
    assert_eq!(
        discrepancies[0].vial.drug,
        respite_clinical::register::RegisterDrug::Ketamine
    );
}

both_engines!(two_rescue_draws_at_once_cannot_take_a_vial_below_zero);
async fn two_rescue_draws_at_once_cannot_take_a_vial_below_zero(engine: Engine) {
    let app = spawn(engine).await;
    let (first, _, nurse) = running_session(&app, "R-5").await;
    let (second, _, other) = running_session(&app, "R-6").await;
    // One vial of 5 mg; each session draws 3 mg of it at the same moment.
    let vial = receive(&app, &nurse, "midazolam", "1").await[0].to_string();
    let fields = [
        ("action", "rescue-drug"),
        ("drug", MIDAZOLAM),
        ("dose_mg", "2"),
        ("reason", "agitation"),
        ("vial", vial.as_str()),
        ("drawn_mg", "3"),
    ];
    let (a, b) = tokio::join!(
        act(&app, &nurse, first, &fields),
        act(&app, &other, second, &fields)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 422], "{engine:?}: {} / {}", a.1, b.1);
    let refused = if a.0 == 422 { &a.1 } else { &b.1 };
    assert!(
        refused.contains("Amount drawn: 3 mg is more than the vial holds (2 mg)."),
        "{refused}"
    );
    assert_eq!(balance_mg(&app, vial.parse().unwrap()).await, 2.0);
    let entries = app.store.register_entries().await.unwrap();
    assert_eq!(
        entries.len(),
        3,
        "the receipt, one draw, one administration"
    );
}
