//! The consultation's two records (SPEC §2): the front desk records the
//! call and never sees nor writes the clinical note; the clinical note is
//! prefilled from the inquiry, shown saved once saved, edited into new
//! versions (old ones readable, each audited), flags an onset after the
//! diagnosis date, and its next step leads to the chart.

use respite_domain::Role;
use respite_store::{AuditFilter, InquiryStatus};

use crate::support::*;

/// A new inquiry from the web form; its id.
async fn new_inquiry(app: &TestApp, name: &str) -> i64 {
    let fields = inquiry_fields(name);
    app.post_form("/inquiries", None, &as_refs(&fields)).await;
    app.store
        .inquiries_with_status(InquiryStatus::New, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.name == name)
        .unwrap()
        .id
}

fn note(diagnosed_on: &'static str, red_flags: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("pain_location", "Lower back and left leg"),
        ("pain_duration_amount", "2"),
        ("pain_duration_unit", "years"),
        ("diagnosis", "Lumbar radiculopathy"),
        ("diagnosed_by", "Dr Ruiz, neurologist"),
        ("diagnosed_on", diagnosed_on),
        ("icd10cm_code", "M54.16"),
        ("treatments_tried", "Gabapentin: dizziness"),
        ("hopes", "Walk the dog again"),
        ("red_flags", red_flags),
        ("next_step", "book-screening-visit"),
        ("not_candidate_reason", ""),
    ]
}

async fn last_entry(app: &TestApp) -> respite_store::AuditRecord {
    app.store
        .audit_entries(&AuditFilter {
            limit: 1,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .remove(0)
}

both_engines!(the_front_desk_records_the_call_and_is_refused_the_clinical_note_everywhere);
async fn the_front_desk_records_the_call_and_is_refused_the_clinical_note_everywhere(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let id = new_inquiry(&app, "Split Person").await;
    let clinician = app.sign_in(Role::Clinician).await;
    let front_desk = app.sign_in(Role::FrontDesk).await;
    let note_path = format!("/staff/inquiries/{id}/consultation");
    let saved = app
        .post_form(
            &note_path,
            Some(&clinician),
            &note("2024-01-10", "Night sweats and weight loss"),
        )
        .await;
    assert_eq!(saved.status(), 303, "{engine:?}");

    // The clinical note: refused on every route, each refusal audited.
    for (method, path) in [
        ("GET", note_path.clone()),
        ("GET", format!("{note_path}?edit=1")),
        ("POST", note_path.clone()),
    ] {
        let before = app.audit_count().await;
        let response = if method == "GET" {
            app.get(&path, Some(&front_desk)).await
        } else {
            app.post_form(&path, Some(&front_desk), &note("2024-01-10", "Changed"))
                .await
        };
        assert_eq!(response.status(), 403, "{engine:?} {method} {path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("Lumbar radiculopathy") && !body.contains("Night sweats"));
        assert_eq!(app.audit_count().await, before + 1, "{method} {path}");
        let entry = last_entry(&app).await;
        assert_eq!(
            (
                entry.outcome.as_str(),
                entry.resource_type.as_str(),
                entry.actor.as_str()
            ),
            ("denied", "ConsultationNote", "front-desk@clinic.test"),
            "{engine:?} {method} {path}"
        );
    }
    assert_eq!(
        app.store.consultation_notes(id).await.unwrap().len(),
        1,
        "{engine:?}: the refused note stored nothing"
    );

    // The front desk records the call: reached, not booked, what was asked.
    let call_path = format!("/staff/inquiries/{id}/call");
    let form = app
        .get(&call_path, Some(&front_desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains("<h1>Call with Split Person</h1>") && form.contains("id=\"call-form\""));
    let refused = app
        .post_form(
            &call_path,
            Some(&front_desk),
            &[("reached", "no"), ("booked", "yes")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("id=\"booked-error\""));
    let saved = app
        .post_form(
            &call_path,
            Some(&front_desk),
            &[
                ("reached", "yes"),
                ("booked", "no"),
                ("asked", "Is it covered by insurance?"),
                ("based_on", "0"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303, "{engine:?}");
    let entry = last_entry(&app).await;
    assert_eq!(
        (
            entry.resource_type.as_str(),
            entry.action.as_str(),
            entry.resource_id.clone()
        ),
        ("ConsultationCall", "create", id.to_string())
    );
    // Reached: the thread moved on.
    assert_eq!(
        app.store.inquiry(id).await.unwrap().unwrap().status,
        InquiryStatus::Contacted
    );

    // Nowhere the front desk reads is the clinical part rendered.
    for path in [format!("/staff/inquiries/{id}"), call_path.clone()] {
        let page = app
            .get(&path, Some(&front_desk))
            .await
            .text()
            .await
            .unwrap();
        for clinical in [
            "Lumbar radiculopathy",
            "Night sweats",
            "Gabapentin",
            "M54.16",
            "Walk the dog",
        ] {
            assert!(
                !page.contains(clinical),
                "{engine:?}: {path} shows {clinical}"
            );
        }
        assert!(
            !page.contains(&format!("href=\"{note_path}")),
            "{path} links the note"
        );
    }
    let inquiry_page = app
        .get(&format!("/staff/inquiries/{id}"), Some(&front_desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        inquiry_page.contains("id=\"call-summary\"")
            && inquiry_page.contains("Is it covered by insurance?")
    );
    let call = app
        .get(&call_path, Some(&front_desk))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        call.contains("Is it covered by insurance?") && call.contains("Call record, version 1")
    );
    // A nurse reads the call record and is pointed at the clinical note.
    let nurse = app.sign_in(Role::Nurse).await;
    let seen = app
        .get(&call_path, Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(seen.contains("id=\"clinical-note-link\"") && !seen.contains("id=\"call-form\""));
}

both_engines!(a_saved_note_is_shown_saved_and_each_edit_is_a_new_readable_version);
async fn a_saved_note_is_shown_saved_and_each_edit_is_a_new_readable_version(engine: Engine) {
    let app = spawn(engine).await;
    let id = new_inquiry(&app, "Version Person").await;
    let nurse = app.sign_in(Role::Nurse).await;
    let path = format!("/staff/inquiries/{id}/consultation");

    // Before the first note: a form prefilled from the inquiry (back pain,
    // "1 to 5 years": the unit, not an invented amount).
    let blank = app.get(&path, Some(&nurse)).await.text().await.unwrap();
    assert!(
        blank.contains("id=\"pain_location\" name=\"pain_location\" value=\"Back\""),
        "{engine:?}"
    );
    assert!(blank.contains("<option value=\"years\" selected>"));
    assert!(blank.contains("id=\"pain_duration_amount\" name=\"pain_duration_amount\" value=\"\""));
    assert!(
        blank.contains("Back, 1 to 5 years") && blank.contains("name=\"based_on\" value=\"0\"")
    );

    let first = app
        .post_form(
            &path,
            Some(&nurse),
            &with_based_on(note("2025-03-14", ""), "0"),
        )
        .await;
    assert_eq!(first.status(), 303, "{engine:?}");
    let saved = app.get(&path, Some(&nurse)).await.text().await.unwrap();
    assert!(saved.contains("Note, version 1") && saved.contains("Saved "));
    assert!(
        saved.contains("id=\"edit-note\""),
        "an edit, not a second blank form"
    );
    assert!(!saved.contains("id=\"note-form\""));

    // Edit: the form holds version 1's values and saves version 2.
    let edit = app
        .get(&format!("{path}?edit=1"), Some(&nurse))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        edit.contains("name=\"based_on\" value=\"1\"")
            && edit.contains("value=\"Lumbar radiculopathy\"")
    );
    assert!(edit.contains("Gabapentin: dizziness</textarea>"));
    let mut changed = note("2025-03-14", "");
    changed[0] = ("pain_location", "Lower back only");
    let second = app
        .post_form(&path, Some(&nurse), &with_based_on(changed.clone(), "1"))
        .await;
    assert_eq!(second.status(), 303);
    let entry = last_entry(&app).await;
    assert_eq!(
        (
            entry.resource_type.as_str(),
            entry.action.as_str(),
            entry.outcome.as_str()
        ),
        ("ConsultationNote", "create", "success")
    );
    let page = app.get(&path, Some(&nurse)).await.text().await.unwrap();
    assert!(page.contains("Note, version 2") && page.contains("Lower back only"));
    assert!(page.contains("Earlier versions (1)") && page.contains("id=\"version-1\""));
    assert!(
        page.contains("Lower back and left leg"),
        "version 1 stays readable"
    );
    let entry = last_entry(&app).await;
    assert_eq!(
        (entry.resource_type.as_str(), entry.action.as_str()),
        ("ConsultationNote", "read")
    );

    // An edit from version 1 after version 2 was saved overwrites nothing.
    let stale = app
        .post_form(&path, Some(&nurse), &with_based_on(changed, "1"))
        .await;
    assert_eq!(stale.status(), 409, "{engine:?}");
    assert!(stale
        .text()
        .await
        .unwrap()
        .contains("someone saved version 2"));
    let versions: Vec<i64> = app
        .store
        .consultation_notes(id)
        .await
        .unwrap()
        .iter()
        .map(|n| n.version)
        .collect();
    assert_eq!(versions, [2, 1], "{engine:?}");
}

fn with_based_on(
    mut fields: Vec<(&'static str, &'static str)>,
    version: &'static str,
) -> Vec<(&'static str, &'static str)> {
    fields.push(("based_on", version));
    fields
}

both_engines!(an_onset_after_the_diagnosis_is_flagged_and_the_next_step_leads_to_the_chart);
async fn an_onset_after_the_diagnosis_is_flagged_and_the_next_step_leads_to_the_chart(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let id = new_inquiry(&app, "Onset Person").await;
    let clinician = app.sign_in(Role::Clinician).await;
    let path = format!("/staff/inquiries/{id}/consultation");
    // "2 years" of pain, diagnosed 2015: diagnosed years before it began.
    app.post_form(&path, Some(&clinician), &note("2015-06-01", ""))
        .await;
    let page = app.get(&path, Some(&clinician)).await.text().await.unwrap();
    assert!(page.contains("id=\"onset-flag\""), "{engine:?}");
    assert!(page.contains("after the diagnosis on 2015-06-01"));
    // No chart yet: the next step is to make one.
    assert!(page.contains(&format!(
        "href=\"/staff/inquiries/{id}/chart\" id=\"next-step-link\""
    )));
    assert!(page.contains("Book a screening visit: first create the patient chart"));

    // A plausible date: no flag.
    let mut fixed = note("2025-01-15", "");
    fixed.push(("based_on", "1"));
    app.post_form(&path, Some(&clinician), &fixed).await;
    let page = app.get(&path, Some(&clinician)).await.text().await.unwrap();
    assert!(!page.contains("id=\"onset-flag\""), "{engine:?}");

    let converted = app
        .post_form(
            &format!("/staff/inquiries/{id}/chart"),
            Some(&clinician),
            &[
                ("given_name", "Onset"),
                ("family_name", "Person"),
                ("birth_date", "1980-02-02"),
                ("sex", "female"),
            ],
        )
        .await;
    assert_eq!(converted.status(), 303, "{engine:?}");
    let chart = converted.headers()["location"].to_str().unwrap().to_owned();
    let page = app.get(&path, Some(&clinician)).await.text().await.unwrap();
    assert!(
        page.contains(&format!("href=\"{chart}\" id=\"next-step-link\"")),
        "{engine:?}: the next step opens the chart"
    );
    assert!(page.contains("Book a screening visit: open the chart RSP-"));
}

both_engines!(two_edits_of_the_same_version_at_once_save_one);
/// Two clinicians edit version 1 and save at the same moment: one becomes
/// version 2, the others are told the note changed; nothing is overwritten.
async fn two_edits_of_the_same_version_at_once_save_one(engine: Engine) {
    let app = spawn(engine).await;
    let id = new_inquiry(&app, "Race Person").await;
    let clinician = app.sign_in(Role::Clinician).await;
    let nurse = app.sign_in(Role::Nurse).await;
    let path = format!("/staff/inquiries/{id}/consultation");
    let first = app
        .post_form(
            &path,
            Some(&clinician),
            &with_based_on(note("2025-03-14", ""), "0"),
        )
        .await;
    assert_eq!(first.status(), 303);
    let edits = [&clinician, &nurse, &clinician, &nurse].map(|token| {
        let app = &app;
        let path = path.clone();
        async move {
            app.post_form(
                &path,
                Some(token),
                &with_based_on(note("2025-03-14", "Edited"), "1"),
            )
            .await
            .status()
            .as_u16()
        }
    });
    let mut statuses = futures::future::join_all(edits).await;
    statuses.sort();
    assert_eq!(statuses, [303, 409, 409, 409], "{engine:?}");
    let versions: Vec<i64> = app
        .store
        .consultation_notes(id)
        .await
        .unwrap()
        .iter()
        .map(|n| n.version)
        .collect();
    assert_eq!(versions, [2, 1], "{engine:?}");
}
