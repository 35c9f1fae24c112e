//! The clinic around the public pages, on SQLite and PostgreSQL: the
//! administrator's clinic settings (name, telephone, e-mail, address, hours,
//! privacy notice) shown on every public page; refusals and pages not found
//! inside the navigation that fits the visitor; the site's icon; and what the
//! public pages teach (shared/clinical/education.md), each point with its
//! source.

use respite_domain::Role;
use respite_store::AuditFilter;

use crate::support::*;

/// The public pages every visitor can open, each of which shows the clinic.
const PUBLIC_PAGES: &[&str] = &[
    "/",
    "/treatment",
    "/privacy",
    "/consultations",
    "/inquiries/thanks",
    "/staff/login",
];

const SETTINGS: &[(&str, &str)] = &[
    ("name", "Lakeside Pain Clinic"),
    ("phone", "312.555.0147"),
    ("email", "hello@lakeside.example"),
    (
        "address",
        "1 Lake Shore Drive\r\nSuite 400\r\nChicago, IL 60611",
    ),
    (
        "hours",
        "Monday to Friday, 8 am to 5 pm\r\nClosed on public holidays",
    ),
    (
        "privacy_notice",
        "We use what you send us only to care for you.\r\n\r\nYou may ask for a copy at any time.",
    ),
];

both_engines!(the_administrator_sets_the_clinic_details_every_public_page_shows);
async fn the_administrator_sets_the_clinic_details_every_public_page_shows(engine: Engine) {
    let app = spawn(engine).await;
    // Before anything is saved: the configured name and the product's notice.
    let home = app.get("/", None).await.text().await.unwrap();
    assert!(home.contains("Respite Pain Clinic"), "{engine:?}");
    assert!(home.contains("id=\"privacy-summary\""), "{engine:?}");

    let admin = app.sign_in(Role::Admin).await;
    let form = app.get("/staff/settings", Some(&admin)).await;
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert!(form.contains("Not saved yet"), "{form}");
    assert!(
        form.contains("HIPAA"),
        "the default notice is offered to edit"
    );

    // Bad input names each field in words and stores nothing.
    let before = app.audit_count().await;
    let bad = app
        .post_form(
            "/staff/settings",
            Some(&admin),
            &[("name", " "), ("phone", "12"), ("privacy_notice", "")],
        )
        .await;
    assert_eq!(bad.status(), 422, "{engine:?}");
    let bad = bad.text().await.unwrap();
    for words in [
        "Clinic name: is required",
        "Telephone: is not a phone number we can read",
        "Privacy notice: is required",
    ] {
        assert!(bad.contains(words), "{words}: {bad}");
    }
    assert!(bad.contains("aria-describedby=\"phone-error\""));
    assert!(app.store.clinic_profile().await.unwrap().is_none());
    let entries = app
        .store
        .audit_entries(&AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(app.audit_count().await, before + 1, "a refusal is audited");
    assert_eq!(entries[0].outcome, "invalid");

    // Saved, audited with the write.
    let saved = app
        .post_form("/staff/settings", Some(&admin), SETTINGS)
        .await;
    assert_eq!(saved.status(), 303, "{engine:?}");
    assert_eq!(saved.headers()["location"], "/staff/settings?saved=1");
    let stored = app.store.clinic_profile().await.unwrap().unwrap();
    assert_eq!(stored.profile.name, "Lakeside Pain Clinic");
    assert_eq!(stored.profile.phone.unwrap().as_e164(), "+13125550147");
    assert_eq!(
        stored.profile.address,
        "1 Lake Shore Drive\nSuite 400\nChicago, IL 60611"
    );
    assert_eq!(stored.updated_by, "admin@clinic.test");
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
            entry.outcome.as_str()
        ),
        ("Organization", "update", "clinic", "success")
    );
    let again = app
        .get("/staff/settings?saved=1", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(again.contains("Last saved by admin@clinic.test"));
    assert!(again.contains("value=\"(312) 555-0147\""), "{again}");

    // Every public page shows the clinic: the number in national format,
    // never E.164.
    for path in PUBLIC_PAGES {
        let page = app.get(path, None).await;
        assert_eq!(page.status(), 200, "{engine:?} {path}");
        let page = page.text().await.unwrap();
        for shown in [
            "Lakeside Pain Clinic",
            "(312) 555-0147",
            "href=\"tel:+13125550147\"",
            "hello@lakeside.example",
            "1 Lake Shore Drive<br>Suite 400<br>Chicago, IL 60611",
            "Monday to Friday, 8 am to 5 pm",
            "We use what you send us only to care for you.",
            "href=\"/privacy\"",
            "988",
        ] {
            assert!(page.contains(shown), "{engine:?} {path}: {shown}");
        }
        assert!(
            !page.contains(">+13125550147"),
            "{path}: a raw E.164 number"
        );
    }
    let privacy = app.get("/privacy", None).await.text().await.unwrap();
    assert!(privacy.contains("You may ask for a copy at any time."));

    // Only the administrator changes them (SPEC §2).
    for role in [Role::FrontDesk, Role::Nurse, Role::Clinician] {
        let token = app.sign_in(role).await;
        let refused = app
            .post_form("/staff/settings", Some(&token), &[("name", "Taken Over")])
            .await;
        assert_eq!(refused.status(), 403, "{engine:?} {role}");
    }
    let stored = app.store.clinic_profile().await.unwrap().unwrap();
    assert_eq!(stored.profile.name, "Lakeside Pain Clinic");
}

both_engines!(refusals_and_missing_pages_keep_the_navigation_that_fits_the_visitor);
async fn refusals_and_missing_pages_keep_the_navigation_that_fits_the_visitor(engine: Engine) {
    let app = spawn(engine).await;
    let missing = app.get("/no/such/page", None).await;
    assert_eq!(missing.status(), 404, "{engine:?}");
    let missing = missing.text().await.unwrap();
    assert!(missing.contains("There is nothing at this address."));
    assert!(
        missing.contains("About ketamine treatment"),
        "public navigation"
    );
    assert!(missing.contains("id=\"privacy-summary\""), "public footer");
    assert!(!missing.contains("Sign out"));

    let front_desk = app.sign_in(Role::FrontDesk).await;
    let missing = app.get("/no/such/page", Some(&front_desk)).await;
    assert_eq!(missing.status(), 404);
    let missing = missing.text().await.unwrap();
    assert!(missing.contains("Sign out"), "staff navigation: {missing}");
    assert!(missing.contains("href=\"/staff/callbacks\""));

    let chart = app.get("/staff/patients/999999", Some(&front_desk)).await;
    assert_eq!(chart.status(), 403);
    let refused = app.get("/staff/audit", Some(&front_desk)).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.headers()["cache-control"], "no-store");
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("<h1>Not allowed</h1>"));
    assert!(refused.contains("The Front desk role does not give access to this page."));
    assert!(refused.contains("Sign out"), "staff navigation");
    assert!(!refused.contains("role:"), "no field key: {refused}");

    let nurse = app.sign_in(Role::Nurse).await;
    let unknown = app.get("/staff/patients/999999", Some(&nurse)).await;
    assert_eq!(unknown.status(), 404);
    assert!(unknown.text().await.unwrap().contains("Sign out"));
}

both_engines!(the_site_icon_is_served_where_browsers_look);
async fn the_site_icon_is_served_where_browsers_look(engine: Engine) {
    let app = spawn(engine).await;
    for path in ["/favicon.ico", "/static/favicon.svg"] {
        let icon = app.get(path, None).await;
        assert_eq!(icon.status(), 200, "{engine:?} {path}");
        assert_eq!(icon.headers()["content-type"], "image/svg+xml");
        assert!(icon.text().await.unwrap().starts_with("<svg"));
    }
    let home = app.get("/", None).await.text().await.unwrap();
    assert!(home.contains("<link rel=\"icon\" href=\"/static/favicon.svg\""));
}

/// What shared/clinical/education.md asks the public pages to teach: each
/// point by its words on the page, and the source it cites (the id of its
/// entry in the list of sources), where the point rests on one.
const EDUCATION: &[(&str, &[&str], Option<&str>)] = &[
    (
        "when pain is chronic",
        &["more than 3 months", "ICD-11"],
        Some("source-treede"),
    ),
    (
        "what it does to a life",
        &[
            "things you love doing",
            "sleeping well",
            "irritable or depressed",
        ],
        Some("source-peg"),
    ),
    (
        "common kinds",
        &[
            "degenerative disc disease",
            "scoliosis",
            "tension-type headache",
            "eye strain",
            "migraine",
            "cluster headache",
            "osteoarthritis",
            "rheumatoid arthritis",
            "repeated movements or sport",
            "Fibromyalgia",
            "Endometriosis",
            "Complex regional pain syndrome (CRPS)",
        ],
        Some("source-codes"),
    ),
    (
        "how ketamine acts",
        &[
            "blocking NMDA",
            "glutamate",
            "opioid receptors",
            "sodium and potassium channels",
            "local anaesthetic",
            "GABA",
        ],
        Some("source-zanos"),
    ),
    (
        "the doses",
        &["far below those used for", "awake", "vital signs"],
        Some("source-cohen"),
    ),
    (
        "what the evidence says",
        &[
            "moderate evidence",
            "short-term relief in CRPS",
            "weak or limited",
            "fades over weeks",
        ],
        Some("source-cohen"),
    ),
    (
        "safeguards before treatment",
        &[
            "not a first treatment",
            "diagnosed by a physician",
            "complete, up-to-date medical records",
            "have not relieved your pain enough",
            "tolerance",
        ],
        Some("source-cohen"),
    ),
    (
        "care has several parts",
        &[
            "treat the condition behind the pain",
            "NSAID",
            "cold packs, heat and physiotherapy",
            "exercise",
            "cognitive behavioural therapy",
            "sleep",
        ],
        None,
    ),
    (
        "how to start",
        &[
            "free 15-minute phone consultation",
            "best times to call you",
            "/consultations",
        ],
        None,
    ),
    (
        "safety",
        &[
            "detached or dreamlike",
            "feel sick",
            "blood pressure",
            "not drive until the next day",
            "responsible adult",
        ],
        Some("source-cohen"),
    ),
    ("crisis", &["988", "911"], None),
];

/// The published references, as the sources list must name them
/// (shared/clinical/education.md).
const REFERENCES: &[(&str, &str)] = &[
    ("source-treede", "Treede RD et al."),
    ("source-treede", "2019;160:19–27"),
    ("source-zanos", "Zanos P et al."),
    ("source-zanos", "2018;70:621–660"),
    ("source-cohen", "Cohen SP et al."),
    ("source-cohen", "2018;43:521–546"),
];

both_engines!(the_public_pages_teach_each_point_with_its_source);
async fn the_public_pages_teach_each_point_with_its_source(engine: Engine) {
    let app = spawn(engine).await;
    let page = app.get("/treatment", None).await;
    assert_eq!(page.status(), 200, "{engine:?}");
    let page = page.text().await.unwrap();
    let sources = &page[page.find("id=\"sources\"").expect("a list of sources")..];
    for (point, phrases, source) in EDUCATION {
        for phrase in *phrases {
            assert!(page.contains(phrase), "{point}: «{phrase}» is missing");
        }
        if let Some(source) = source {
            assert!(
                page.contains(&format!("class=\"cite\" href=\"#{source}\"")),
                "{point}: cites {source}"
            );
            assert!(
                sources.contains(&format!("<li id=\"{source}\"")),
                "{point}: {source} is in the list of sources"
            );
        }
    }
    for (id, words) in REFERENCES {
        let entry = &sources[sources.find(&format!("id=\"{id}\"")).unwrap()..];
        let entry = &entry[..entry.find("</li>").unwrap()];
        assert!(entry.contains(words), "{id}: {words}");
    }
    // Honest about the evidence: never "proven" for chronic pain in general.
    assert!(!page.to_lowercase().contains("clinically proven"));
    // The home page leads there, with the points that matter most first.
    let home = app.get("/", None).await.text().await.unwrap();
    assert!(home.contains("href=\"/treatment\""));
    for phrase in ["more than 3 months", "strongest for CRPS", "stay awake"] {
        assert!(home.contains(phrase), "home: {phrase}");
    }
}
