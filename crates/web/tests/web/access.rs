//! Who may reach what: the CSRF check and every route of the table against every role.

use respite_domain::Role;
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

/// Who may use each route, written by hand from SPEC §2 — not read from
/// `route_specs()` or `Role::grants`, which are what it checks. A new route
/// needs a row here (one line); `the_code_grants_each_route_to_exactly_the_roles_spec_section_2_names`
/// fails, naming the route, until it has one.
///
/// Roles, by SPEC §2: the front desk works the inquiry queue, callbacks,
/// consultation calendar and reminders, and sees contact data but not
/// clinical notes; the nurse keeps records, vitals, infusion sessions and
/// questionnaires; the clinician decides screening, plans and orders; the
/// admin runs users, roles, protocols, clinic settings, audit review and
/// backups. Anonymous is a person with no session.
#[rustfmt::skip]
const SPEC_ACCESS: &[Expected] = &[
    //  method  path                                         anon front nurse clin admin  when allowed                                                        why (SPEC §2)
    row("GET",  "/",                                         Y,   Y,    Y,    Y,   Y,     Shows("Living with pain that will not go away?"),                   "the public site: anyone"),
    row("POST", "/inquiries",                                Y,   Y,    Y,    Y,   Y,     RefusedByRule(422, "is required: tell us what to call you"),       "anyone may ask for help (SPEC §3 inquiry form)"),
    row("GET",  "/inquiries/thanks",                         Y,   Y,    Y,    Y,   Y,     Shows("<h1>Thank you"),                                             "the public site: anyone"),
    row("GET",  "/healthz",                                  Y,   Y,    Y,    Y,   Y,     Shows("\"database\":\"ok\""),                                      "monitoring, no data"),
    row("GET",  "/consultations",                            Y,   Y,    Y,    Y,   Y,     Shows("<h1>Book a free 15-minute phone consultation</h1>"),         "anyone books the free phone consultation"),
    row("POST", "/consultations",                            Y,   Y,    Y,    Y,   Y,     RefusedByRule(422, "choose one of the listed times"),              "anyone books the free phone consultation"),
    row("GET",  "/consultations/booking",                    Y,   Y,    Y,    Y,   Y,     RefusedByRule(403, "This link is not valid"),                       "the person's own booking: the signed link is the credential"),
    row("GET",  "/consultations/booking.ics",                Y,   Y,    Y,    Y,   Y,     RefusedByRule(403, "This link is not valid"),                       "the person's own booking: the signed link is the credential"),
    row("GET",  "/ical/{file}",                              Y,   Y,    Y,    Y,   Y,     RefusedByRule(404, "There is nothing here."),                       "staff calendar feed: the secret in the address is the credential"),
    row("POST", "/consultations/booking/cancel",             Y,   Y,    Y,    Y,   Y,     RefusedByRule(403, "This link is not valid"),                       "the person's own booking: the signed link is the credential"),
    row("GET",  "/consultations/booking/reschedule",         Y,   Y,    Y,    Y,   Y,     RefusedByRule(403, "This link is not valid"),                       "the person's own booking: the signed link is the credential"),
    row("POST", "/consultations/booking/reschedule",         Y,   Y,    Y,    Y,   Y,     RefusedByRule(403, "This link is not valid"),                       "the person's own booking: the signed link is the credential"),
    row("POST", "/webhooks/sms",                             Y,   Y,    Y,    Y,   Y,     RefusedByRule(403, "X-Twilio-Signature"),                           "the SMS provider: its signature is the credential"),
    row("POST", "/webhooks/voice",                           Y,   Y,    Y,    Y,   Y,     RefusedByRule(403, "X-Twilio-Signature"),                           "the voice provider: its signature is the credential"),
    row("GET",  "/static/home.js",                           Y,   Y,    Y,    Y,   Y,     Shows("preselect the visitor's own time zone"),                        "the public form's script: no data"),
    row("GET",  "/static/book.js",                           Y,   Y,    Y,    Y,   Y,     Shows("addEventListener"),                                          "the booking page's script: no data"),
    row("GET",  "/static/site.css",                          Y,   Y,    Y,    Y,   Y,     Shows(":root {"),                                                    "the stylesheet: no data"),
    row("GET",  "/staff/login",                              Y,   Y,    Y,    Y,   Y,     Shows("<h1>Staff sign-in</h1>"),                                    "staff sign in from here"),
    row("POST", "/staff/login",                              Y,   Y,    Y,    Y,   Y,     RefusedByRule(422, "E-mail and password: both are required."),     "staff sign in from here"),
    row("POST", "/staff/logout",                             N,   Y,    Y,    Y,   Y,     Redirects("/staff/login"),                                          "every signed-in staff member signs out"),
    row("GET",  "/staff/account",                            N,   Y,    Y,    Y,   Y,     Shows("<h1>Your account</h1>"),                                     "every staff member's own account"),
    row("GET",  "/staff",                                    N,   Y,    Y,    Y,   Y,     Shows("<h1>New inquiries"),                                         "inquiry queue: front desk; clinician screens from it; nurse charts from it; admin oversight (beyond the letter of §2)"),
    row("GET",  "/staff/inquiries/{id}",                     N,   Y,    Y,    Y,   Y,     Shows("<h1>Inquiry from Route Test</h1>"),                          "inquiry queue: as /staff"),
    row("POST", "/staff/inquiries/{id}/sms",                 N,   Y,    N,    Y,   N,     Redirects("/staff/inquiries/{id}"),                                 "callbacks and reminders: front desk; clinician screening; not nurse or admin"),
    row("POST", "/staff/inquiries/{id}/email",               N,   Y,    N,    Y,   N,     RefusedByRule(422, "E-mail: this inquiry has no e-mail address"),    "callbacks and reminders: front desk; clinician screening; not nurse or admin"),
    row("POST", "/staff/inquiries/{id}/verify-contact",      N,   Y,    N,    Y,   N,     RefusedByRule(422, "Contact: must name one of the inquiry"),        "contact data: front desk confirms an address on a call; clinician calls too"),
    row("GET",  "/staff/callbacks",                          N,   Y,    Y,    Y,   Y,     Shows("<h1>Callbacks"),                                             "callbacks: front desk (the others read the queue as /staff)"),
    row("POST", "/staff/callbacks/{id}/attempts",            N,   Y,    N,    Y,   N,     Redirects("/staff/callbacks?logged=1"),                             "callbacks: front desk; clinician screening calls; not nurse or admin"),
    row("GET",  "/staff/inquiries/{id}/consultation",        N,   N,    Y,    Y,   N,     Shows("<h1>Consultation with Route Test</h1>"),                     "the clinical note (pain history, diagnosis, treatments, red flags): records, nurse and clinician; front desk sees no clinical notes; admin no records"),
    row("POST", "/staff/inquiries/{id}/consultation",        N,   N,    Y,    Y,   N,     Redirects("/staff/inquiries/{id}/consultation"),                    "the clinical note: as the GET"),
    row("GET",  "/staff/inquiries/{id}/chart",               N,   N,    Y,    Y,   N,     Shows("<h1>Convert Route Test to a patient chart</h1>"),            "records: nurse and clinician; front desk sees no clinical notes; admin no records"),
    row("POST", "/staff/inquiries/{id}/chart",               N,   N,    Y,    Y,   N,     Once("/staff/patients/", 409, "Inquiry: has already been converted"),      "records: as the GET"),
    row("GET",  "/staff/consultations",                      N,   Y,    Y,    Y,   Y,     Shows("<h1>Phone consultations"),                                   "consultation calendar: front desk (the others read the queue as /staff)"),
    row("POST", "/staff/inquiries/{id}/consultations",       N,   Y,    N,    Y,   N,     RefusedByRule(422, "Choose a time"),                                "consultation calendar: front desk books; clinician screening; not nurse or admin"),
    row("POST", "/staff/consultations/{id}/no-show",         N,   Y,    N,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "consultation calendar: as booking"),
    row("GET",  "/staff/schedule",                           N,   Y,    N,    N,   Y,     Shows("<h1>Consultation schedule</h1>"),                            "clinic settings: admin; front desk books from the calendar"),
    row("POST", "/staff/schedule/hours",                     N,   N,    N,    N,   Y,     Redirects("/staff/schedule#hours"),                                 "clinic settings: admin"),
    row("POST", "/staff/schedule/holidays",                  N,   N,    N,    N,   Y,     Redirects("/staff/schedule#holidays"),                              "clinic settings: admin"),
    row("POST", "/staff/schedule/holidays/remove",           N,   N,    N,    N,   Y,     Redirects("/staff/schedule#holidays"),                              "clinic settings: admin"),
    row("POST", "/staff/schedule/availability",              N,   N,    N,    N,   Y,     Redirects("/staff/schedule#availability"),                          "clinic settings: admin"),
    row("POST", "/staff/schedule/availability/{id}/remove",  N,   N,    N,    N,   Y,     Redirects("/staff/schedule#availability"),                          "clinic settings: admin"),
    row("GET",  "/staff/patients",                           N,   Y,    Y,    Y,   Y,     Shows("<h1>Patients"),                                              "contact data: front desk; records: nurse, clinician; admin (beyond the letter of §2)"),
    row("GET",  "/staff/patients/{id}",                      N,   N,    Y,    Y,   N,     Shows("<h1>Test Patient</h1>"),                                     "records: nurse, clinician; front desk sees no clinical notes; admin no records"),
    row("GET",  "/staff/audit",                              N,   N,    N,    N,   Y,     Shows("<h1>Audit trail</h1>"),                                      "audit review: admin"),
    // The public pages around the forms, and the clinic settings they show.
    row("GET",  "/treatment",                                Y,   Y,    Y,    Y,   Y,     Shows("<h1>Ketamine for chronic pain: what to know</h1>"),           "the public site: anyone"),
    row("GET",  "/privacy",                                  Y,   Y,    Y,    Y,   Y,     Shows("<h1>Privacy notice</h1>"),                                   "the public site: anyone"),
    row("GET",  "/static/favicon.svg",                       Y,   Y,    Y,    Y,   Y,     Shows("<svg"),                                                      "the site's icon: no data"),
    row("GET",  "/favicon.ico",                              Y,   Y,    Y,    Y,   Y,     Shows("<svg"),                                                      "the site's icon: no data"),
    row("GET",  "/staff/settings",                           N,   N,    N,    N,   Y,     Shows("<h1>Clinic settings</h1>"),                                  "clinic settings: admin"),
    row("POST", "/staff/settings",                           N,   N,    N,    N,   Y,     Redirects("/staff/settings?saved=1"),                               "clinic settings: admin"),
    // The consultation call record (lists and notes): the front desk's part of the split note.
    row("GET",  "/staff/inquiries/{id}/call",                N,   Y,    Y,    Y,   Y,     Shows("<h1>Call with Route Test</h1>"),                             "contact data of the inquiry queue: as /staff/inquiries/{id}; no clinical content"),
    row("POST", "/staff/inquiries/{id}/call",                N,   Y,    N,    Y,   N,     Redirects("/staff/inquiries/{id}/call"),                            "callbacks and the consultation calendar: front desk records the call; clinician calls too; not nurse or admin"),
    // Consultations moved, cancelled and held; booking again after a
    // cancellation (SPEC §1 step 2). The test's id names no consultation.
    row("GET",  "/consultations/booking/again",              Y,   Y,    Y,    Y,   Y,     RefusedByRule(403, "This link is not valid"),                       "the person's own booking: the signed link is the credential"),
    row("POST", "/consultations/booking/again",              Y,   Y,    Y,    Y,   Y,     RefusedByRule(403, "This link is not valid"),                       "the person's own booking: the signed link is the credential"),
    row("GET",  "/staff/consultations/{id}",                 N,   Y,    Y,    Y,   Y,     RefusedByRule(404, "There is nothing here."),                       "consultation calendar: as the list"),
    row("POST", "/staff/consultations/{id}/move",            N,   Y,    N,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "consultation calendar: as booking"),
    row("POST", "/staff/consultations/{id}/cancel",          N,   Y,    N,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "consultation calendar: as booking"),
    row("POST", "/staff/consultations/{id}/held",            N,   Y,    N,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "consultation calendar: as booking"),
    // The chart's records and screening (SPEC §1.3): nurses and clinicians
    // keep records; the front desk sees no clinical notes; the admin no records.
    row("GET",  "/staff/patients/{id}/records",              N,   N,    Y,    Y,   N,     Shows("<h1>Records of Test Patient"),                               "records: nurse, clinician; front desk sees no clinical notes; admin no records"),
    row("POST", "/staff/patients/{id}/problems",             N,   N,    Y,    Y,   N,     Redirects("/staff/patients/{id}/records#problems"),                 "records: nurse, clinician"),
    row("POST", "/staff/patients/{id}/medications",          N,   N,    Y,    Y,   N,     Redirects("/staff/patients/{id}/records#medications"),              "records: nurse, clinician"),
    row("POST", "/staff/patients/{id}/medications/stop",     N,   N,    Y,    Y,   N,     RefusedByRule(422, "medication_id: must name one of this patient"), "records: nurse, clinician"),
    row("POST", "/staff/patients/{id}/entered-in-error",      N,   N,    Y,    Y,   N,     RefusedByRule(422, "entry_id: must name one of this patient"),      "records: nurse, clinician correct their entries"),
    row("POST", "/staff/patients/{id}/allergies",            N,   N,    Y,    Y,   N,     Redirects("/staff/patients/{id}/records#allergies"),                "records: nurse, clinician"),
    row("POST", "/staff/patients/{id}/list-reviews",         N,   N,    Y,    Y,   N,     Redirects("/staff/patients/{id}/records#problems"),                 "records: nurse, clinician"),
    row("POST", "/staff/patients/{id}/vitals",               N,   N,    Y,    Y,   N,     Redirects("/staff/patients/{id}/records#vitals"),                   "vitals: nurse; clinician"),
    row("POST", "/staff/patients/{id}/contraindication-review", N, N,   Y,    Y,   N,     Redirects("/staff/patients/{id}/records#contraindications"),        "records: nurse, clinician"),
    row("POST", "/staff/patients/{id}/pre-infusion-risks",   N,   N,    Y,    Y,   N,     Redirects("/staff/patients/{id}/records#risks"),                    "records: nurse, clinician"),
    row("POST", "/staff/patients/{id}/documents",            N,   N,    Y,    Y,   N,     RefusedByRule(422, "file: is required: choose a PDF, PNG or JPEG"), "records: nurse, clinician (an url-encoded form has no file)"),
    row("GET",  "/staff/documents/{id}",                     N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "records: nurse, clinician; the test's id names no document"),
    row("GET",  "/staff/patients/{id}/screening",            N,   N,    Y,    Y,   N,     Shows("<h1>Screening of Test Patient"),                             "records and screening: nurse, clinician; front desk sees no clinical notes"),
    row("GET",  "/staff/settings/screening",                 N,   N,    N,    N,   Y,     Shows("<h1>Screening settings</h1>"),                               "clinic settings: admin"),
    row("POST", "/staff/settings/screening",                 N,   N,    N,    N,   Y,     Redirects("/staff/settings/screening?saved=1"),                     "clinic settings: admin"),
    // Screening decisions, records requests, plans and the work list (SPEC §1 steps 3–4).
    // In the walk, /staff/records-requests/{id} and /staff/plans/{id} get the inquiry's
    // id, 1 on a fresh database: the nurse's request and the clinician's plan made by
    // the POST rows before them.
    row("GET",  "/static/print.js",                          Y,   Y,    Y,    Y,   Y,     Shows("window.print()"),                                            "the letters' print button: no data"),
    row("GET",  "/staff/worklist",                           N,   N,    Y,    Y,   N,     Shows("<h1>Work list</h1>"),                                        "records: nurse keeps them, clinician decides; front desk sees no clinical notes; admin no records"),
    row("GET",  "/staff/patients/{id}/decision",             N,   N,    Y,    Y,   N,     Shows("<h1>Screening decision"),                                    "records: nurse reads the decision; clinician makes it"),
    row("POST", "/staff/patients/{id}/decision",             N,   N,    N,    Y,   N,     Redirects("/staff/patients/{id}/decision"),                         "screening decisions: clinician only"),
    row("GET",  "/staff/patients/{id}/records-requests",     N,   N,    Y,    Y,   N,     Shows("<h1>Records requests"),                                      "records: nurse and clinician"),
    row("POST", "/staff/patients/{id}/records-requests",     N,   N,    Y,    Y,   N,     Redirects("/staff/records-requests/"),                              "records: nurse and clinician ask for them"),
    row("GET",  "/staff/records-requests/{id}",              N,   N,    Y,    Y,   N,     Shows("<h1>Records request</h1>"),                                  "records: nurse and clinician"),
    row("POST", "/staff/records-requests/{id}/received",     N,   N,    Y,    Y,   N,     Once("/staff/patients/", 409, "request: was marked received already"), "records: nurse and clinician file what arrives"),
    row("GET",  "/staff/patients/{id}/plan",                 N,   N,    Y,    Y,   N,     Shows("<h1>Treatment plan"),                                        "treatment plans: clinician writes, nurse reads (records)"),
    row("GET",  "/staff/patients/{id}/plan/edit",            N,   N,    N,    Y,   N,     Shows("<h1>Write the plan"),                                        "treatment plans: clinician only"),
    row("POST", "/staff/patients/{id}/plan",                 N,   N,    N,    Y,   N,     Redirects("/staff/patients/{id}/plan"),                             "treatment plans: clinician only"),
    row("GET",  "/staff/plans/{id}",                         N,   N,    Y,    Y,   N,     Shows("<h1>Treatment plan"),                                        "treatment plans: clinician writes, nurse reads (records)"),
    row("GET",  "/staff/plans/{id}/letter",                  N,   N,    Y,    Y,   N,     Shows("<h1>Letter to the physician</h1>"),                          "treatment plans: shared with the patient's physician (SPEC §1 step 4)"),
    // The controlled-substance register (SPEC §1 step 5): seen by nurses, clinicians and the
    // administrator; kept by the licensed staff who handle the drug (nurse, clinician);
    // discrepancies resolved by a clinician or the administrator; exported by the administrator
    // for an inspection; never the front desk (entries name patients). The walk's vial and
    // count-entry id names none: 404 by rule.
    row("GET",  "/staff/register",                                N,   N,    Y,    Y,   Y,     Shows("<h1>Controlled-substance register</h1>"),                     "drug register: nurse and clinician keep it, admin reviews; never front desk"),
    row("GET",  "/staff/register/vials/{id}",                     N,   N,    Y,    Y,   Y,     RefusedByRule(404, "There is nothing here."),                        "drug register: as the register"),
    row("GET",  "/staff/register/count",                          N,   N,    Y,    Y,   N,     Shows("<h1>Take a count</h1>"),                                      "drug register: counts by the licensed staff who keep it"),
    row("POST", "/staff/register/receipts",                       N,   N,    Y,    Y,   N,     Redirects("/staff/register?done=receipt"),                          "drug register: receipts by nurse and clinician"),
    row("POST", "/staff/register/vials/{id}/draws",               N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                        "drug register: draws by nurse and clinician"),
    row("POST", "/staff/register/vials/{id}/administrations",     N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                        "drug register: administration by nurse and clinician"),
    row("POST", "/staff/register/vials/{id}/waste",               N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                        "drug register: waste by nurse and clinician"),
    row("POST", "/staff/register/vials/{id}/corrections",         N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                        "drug register: corrections by those who keep it"),
    row("POST", "/staff/register/counts",                         N,   N,    Y,    Y,   N,     Redirects("/staff/register?done=count"),                            "drug register: counts by nurse and clinician"),
    row("POST", "/staff/register/discrepancies/{id}/resolve",     N,   N,    N,    Y,   Y,     RefusedByRule(404, "There is nothing here."),                        "drug register: discrepancies resolved by clinician or admin"),
    row("GET",  "/staff/register/export.csv",                     N,   N,    N,    N,   Y,     Shows("entry,at,kind,vial,drug,schedule,ndc,lot,expiry"),                          "drug register: export for inspection by admin (audit review)"),
    row("POST", "/staff/register/settings",                       N,   N,    N,    N,   Y,     Redirects("/staff/register?done=settings"),                         "clinic settings: admin (witnessed waste)"),
    // Infusion orders (SPEC §1 step 5): the protocol library (admins manage it;
    // nurses, clinicians and admins read it), the clinician's order, and the second
    // check by another nurse or clinician. The walk's id names the test patient (no
    // decision: the order is refused, naming why), the first seeded protocol version,
    // and no order (404).
    row("GET",  "/staff/protocols",                          N,   N,    Y,    Y,   Y,     Shows("<h1>Infusion protocols</h1>"),                               "protocols: admin manages; nurse and clinician read the library"),
    row("POST", "/staff/protocols/{id}/active",              N,   N,    N,    N,   Y,     Redirects("/staff/protocols"),                                      "protocols: admin"),
    row("POST", "/staff/settings/infusion",                  N,   N,    N,    N,   Y,     Redirects("/staff/protocols?saved=1"),                              "clinic settings: admin"),
    row("GET",  "/staff/patients/{id}/orders",               N,   N,    Y,    Y,   N,     Shows("<h1>Infusion orders"),                                       "records: nurse and clinician read a patient's orders"),
    row("GET",  "/staff/patients/{id}/orders/new",           N,   N,    N,    Y,   N,     Shows("<h1>Infusion order"),                                        "infusion orders: clinician only"),
    row("POST", "/staff/patients/{id}/orders",               N,   N,    N,    Y,   N,     RefusedByRule(422, "The screening decision in force is not"),       "infusion orders: clinician only; refused unless the decision is eligible (the walk signed it deferred)"),
    row("GET",  "/staff/orders/{id}",                        N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "records: nurse and clinician read orders; the walk's id names no order"),
    row("POST", "/staff/orders/{id}/check",                  N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "second check: another nurse or clinician; the walk's id names no order"),
    // The patient portal and questionnaires. Portal routes past sign-in are
    // the patient's own (no staff role, no anonymous): walked with two
    // patients in crates/web/tests/web/portal/.
    row("GET",  "/portal/sign-in",                           Y,   Y,    Y,    Y,   Y,     Shows("<h1>Your patient portal</h1>"),                              "patients sign in from here"),
    row("POST", "/portal/sign-in",                           Y,   Y,    Y,    Y,   Y,     RefusedByRule(422, "E-mail and password: both are required."),     "patients sign in from here"),
    row("GET",  "/portal/link",                              Y,   Y,    Y,    Y,   Y,     Shows("<h1>Your patient portal</h1>"),                              "the sign-in link's page: the link is the credential"),
    row("POST", "/portal/link",                              Y,   Y,    Y,    Y,   Y,     RefusedByRule(410, "has been used already or has expired"),        "the sign-in link: the link is the credential"),
    row("GET",  "/portal/crisis",                            Y,   Y,    Y,    Y,   Y,     Shows("<h1>Help now</h1>"),                                         "crisis resources: anyone"),
    row("GET",  "/portal/",                                  N,   N,    N,    N,   N,     Shows(""),                                                          "patient: own page only"),
    row("POST", "/portal/sign-out",                          N,   N,    N,    N,   N,     Shows(""),                                                          "patient: own session"),
    row("POST", "/portal/password",                          N,   N,    N,    N,   N,     Shows(""),                                                          "patient: own password"),
    row("GET",  "/portal/questionnaires/{id}",               N,   N,    N,    N,   N,     Shows(""),                                                          "patient: own questionnaires only"),
    row("POST", "/portal/questionnaires/{id}/answers",       N,   N,    N,    N,   N,     Shows(""),                                                          "patient: own questionnaires only"),
    row("POST", "/portal/questionnaires/{id}/submit",        N,   N,    N,    N,   N,     Shows(""),                                                          "patient: own questionnaires only"),
    row("POST", "/staff/patients/{id}/portal-invite",        N,   N,    Y,    Y,   N,     RefusedByRule(422, "the chart has no such address"),               "records and questionnaires: nurse and clinician"),
    row("POST", "/staff/patients/{id}/questionnaires",       N,   N,    Y,    Y,   N,     Redirects("/staff/patients/{id}#portal"),                           "questionnaires: nurse and clinician"),
    row("GET",  "/staff/patients/{id}/questionnaires/paper", N,   N,    Y,    Y,   N,     Shows("on paper: Test Patient</h1>"),                               "questionnaires: nurse and clinician"),
    row("POST", "/staff/patients/{id}/questionnaires/paper", N,   N,    Y,    Y,   N,     Redirects("/staff/patients/{id}#portal"),                           "questionnaires: nurse and clinician"),
    row("GET",  "/staff/alerts",                             N,   N,    Y,    Y,   Y,     Shows("<h1>Safety alerts</h1>"),                                    "safety alerts: nurse and clinician see them; admin sees escalations (SPEC §1 step 6)"),
    row("POST", "/staff/alerts/settings",                    N,   N,    N,    N,   Y,     Redirects("/staff/alerts?saved=1#settings"),                        "clinic settings: admin"),
    row("POST", "/staff/alerts/{id}/acknowledge",            N,   N,    N,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "a clinician acknowledges with the action taken"),
    // Questionnaires on schedule: the schedule, licences and reminders are clinic settings (SPEC §2: admin).
    row("GET",  "/staff/settings/questionnaires",            N,   N,    N,    N,   Y,     Shows("<h1>Questionnaire schedule</h1>"),                           "clinic settings: admin"),
    row("POST", "/staff/settings/questionnaires",            N,   N,    N,    N,   Y,     Redirects("/staff/settings/questionnaires?saved=1"),                "clinic settings: admin"),
    // Clinic-wide results (SPEC §1 step 6): aggregate outcomes, no patient named.
    row("GET",  "/staff/results",                            N,   N,    Y,    Y,   Y,     Shows("<h1>Clinic-wide results</h1>"),                              "clinic-wide results: nurse, clinician, admin; never the front desk (clinical data)"),
    row("GET",  "/staff/results.csv",                        N,   N,    Y,    Y,   Y,     RefusedByRule(422, "must be one of responders-by-condition"),      "clinic-wide results' tables: nurse, clinician, admin; a CSV names its table"),
    // The infusion session (area: sessions; SPEC §2: nurses document infusion
    // sessions, clinicians sign them off; the register's draws and
    // administrations are the licensed staff's; alarm limits are a clinic
    // setting, the administrator's). The walk's ids name no session or order.
    row("GET",  "/staff/sessions",                           N,   N,    Y,    Y,   N,     Shows("<h1>Infusion sessions"),                                     "infusion session documentation: nurse and clinician"),
    row("POST", "/staff/orders/{id}/session",                N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "infusion session documentation: nurse and clinician open it from a checked order"),
    row("GET",  "/staff/sessions/{id}",                      N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "infusion session documentation: nurse and clinician"),
    row("POST", "/staff/sessions/{id}/entries",              N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "infusion session documentation: nurse and clinician"),
    row("POST", "/staff/sessions/{id}/sign-off",             N,   N,    N,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "infusion sign-off: clinician only"),
    row("POST", "/staff/sessions/{id}/draws",                N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "the register: the licensed staff who handle the drug"),
    row("POST", "/staff/sessions/{id}/administrations",      N,   N,    Y,    Y,   N,     RefusedByRule(404, "There is nothing here."),                       "the register: the licensed staff who handle the drug"),
    row("GET",  "/staff/settings/alarms",                    N,   N,    N,    N,   Y,     Shows("<h1>Vital-sign alarms"),                                     "clinic settings: admin"),
    row("POST", "/staff/settings/alarms",                    N,   N,    N,    N,   Y,     Redirects("/staff/settings/alarms?saved=1"),                        "clinic settings: admin"),
    // Outcomes per patient (trajectories): clinical records, nurse and
    // clinician; the portal's progress page is the patient's own (walked
    // with two patients in crates/web/tests/web/portal/ and trajectories/).
    row("GET",  "/staff/patients/{id}/outcomes",             N,   N,    Y,    Y,   N,     Shows("<h1>Outcomes"),                                              "records: nurse and clinician read a patient's outcomes (SPEC §1 step 6)"),
    row("GET",  "/staff/patients/{id}/outcomes.csv",         N,   N,    Y,    Y,   N,     Shows("kind,time,instrument,scale"),                                "records: nurse and clinician, the table behind the charts"),
    row("GET",  "/portal/progress",                          N,   N,    N,    N,   N,     Shows(""),                                                          "patient: own progress only"),
];

/// One row of [`SPEC_ACCESS`].
struct Expected {
    method: &'static str,
    path: &'static str,
    anonymous: bool,
    /// In the order of `Role::ALL`: front desk, nurse, clinician, admin.
    staff: [bool; 4],
    page: Page,
    why: &'static str,
}

/// What an allowed request gets (`{id}` stands for the request's id).
enum Page {
    /// 200, and the body contains this (the page's heading).
    Shows(&'static str),
    /// 303 to a location starting with this.
    Redirects(&'static str),
    /// The handler ran and refused the request by one of its rules: this
    /// status, and this text naming the rule (the test's record does not
    /// meet it: no e-mail address, no free slot, no consultation).
    RefusedByRule(u16, &'static str),
    /// Done once: the first allowed role is redirected to this location,
    /// the next ones find it done (this status and text).
    Once(&'static str, u16, &'static str),
}
use Page::*;

const Y: bool = true;
const N: bool = false;

#[allow(clippy::too_many_arguments)]
const fn row(
    method: &'static str,
    path: &'static str,
    anonymous: bool,
    front_desk: bool,
    nurse: bool,
    clinician: bool,
    admin: bool,
    page: Page,
    why: &'static str,
) -> Expected {
    Expected {
        method,
        path,
        anonymous,
        staff: [front_desk, nurse, clinician, admin],
        page,
        why,
    }
}

impl Expected {
    fn allows(&self, role: Role) -> bool {
        let index = Role::ALL.iter().position(|r| *r == role).unwrap();
        self.staff[index]
    }
}

/// The hand-written row of a route of the code's table.
fn expected(method: &str, path: &str) -> &'static Expected {
    SPEC_ACCESS
        .iter()
        .find(|e| e.method == method && e.path == path)
        .unwrap_or_else(|| {
            panic!("{method} {path}: add its expected access to SPEC_ACCESS in crates/web/tests/web/access.rs")
        })
}

#[test]
fn the_code_grants_each_route_to_exactly_the_roles_spec_section_2_names() {
    let specs = route_specs();
    let mut problems = Vec::new();
    for spec in &specs {
        let Some(hand) = SPEC_ACCESS
            .iter()
            .find(|e| e.method == spec.method && e.path == spec.path)
        else {
            problems.push(format!(
                "{} {}: the code has this route; add its expected access (SPEC §2) to SPEC_ACCESS in crates/web/tests/web/access.rs",
                spec.method, spec.path
            ));
            continue;
        };
        let code_allows_anonymous = matches!(spec.access, Access::Public);
        if code_allows_anonymous != hand.anonymous {
            problems.push(format!(
                "{} {}: the code {} anonymous requests; SPEC_ACCESS says {} ({})",
                spec.method,
                spec.path,
                if code_allows_anonymous {
                    "allows"
                } else {
                    "refuses"
                },
                if hand.anonymous { "allowed" } else { "refused" },
                hand.why
            ));
        }
        for role in Role::ALL {
            let code_allows = match spec.access {
                Access::Public | Access::SignedIn => true,
                Access::Staff(permission) => role.grants(permission),
                Access::Patient => false,
            };
            if code_allows != hand.allows(role) {
                problems.push(format!(
                    "{} {}: the code {} the {role}; SPEC_ACCESS says {} ({})",
                    spec.method,
                    spec.path,
                    if code_allows { "allows" } else { "refuses" },
                    if hand.allows(role) {
                        "allowed"
                    } else {
                        "refused"
                    },
                    hand.why
                ));
            }
        }
    }
    for hand in SPEC_ACCESS {
        if !specs
            .iter()
            .any(|s| s.method == hand.method && s.path == hand.path)
        {
            problems.push(format!(
                "{} {}: SPEC_ACCESS has a row for a route the code does not have",
                hand.method, hand.path
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

both_engines!(every_route_refuses_the_unsigned_and_the_wrong_role_and_audits_the_allowed);
/// Every route in the table, requested by each role and without a session:
/// refused (403, or sign-in for the unsigned) where SPEC_ACCESS says so,
/// and otherwise the page itself (its status and a marker); each route that
/// touches health data leaves an audit entry either way.
async fn every_route_refuses_the_unsigned_and_the_wrong_role_and_audits_the_allowed(
    engine: Engine,
) {
    // Texts go to a stand-in for the provider, so that sending one renders.
    let twilio = crate::messaging::TwilioApi::start().await;
    let app = spawn_with(engine, crate::messaging::config(Some(&twilio))).await;
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
    let mut protected = 0;
    let mut rendered = 0;
    let task_id = app.store.open_callbacks(1).await.unwrap()[0].task_id;
    for spec in &specs {
        if spec.access == Access::Patient {
            // A patient's own routes: walked with two patients, both
            // engines, in crates/web/tests/web/portal/.
            continue;
        }
        let hand = expected(spec.method, spec.path);
        let id = if spec.path.contains("patients") {
            patient_id
        } else if spec.path.contains("callbacks") {
            task_id
        } else if spec.path.contains("availability") {
            availability_id
        } else if spec.path.starts_with("/staff/register/") {
            // No vial or count entry has this id.
            999_999
        } else {
            inquiry_id
        };
        // A valid form for each POST that takes one, so that an allowed
        // request does what it is for (the route is audited as such).
        let fields = valid_fields_for(spec.path, front_desk);
        let path = spec.path.replace("{id}", &id.to_string());
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
        let mut done_once = false;

        // Unsigned: the page where SPEC_ACCESS allows it; otherwise
        // redirected to sign-in (GET) or 401, and audited.
        let before = app.audit_count().await;
        let response = send(None).await;
        if hand.anonymous {
            check_page(hand, &path, id, "anonymous", response, &mut done_once).await;
        } else {
            protected += 1;
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
        }

        for (role, token) in &sessions {
            let before = app.audit_count().await;
            let response = send(Some(token.clone())).await;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if hand.allows(*role) {
                let who = role.as_str();
                check_page(hand, &path, id, who, response, &mut done_once).await;
                rendered += 1;
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
                    // A request refused by a rule (no free slot, a chart
                    // already made) is audited as invalid, not success.
                    let outcome = if status < 400 { "success" } else { "invalid" };
                    assert_eq!(entry.outcome, outcome, "{role} {path}");
                    // A created chart is named by its patient id.
                    let created = location
                        .as_deref()
                        .and_then(|l| l.strip_prefix("/staff/patients/"));
                    if let Some(created) = created.filter(|_| audited.resource == "Patient") {
                        assert_eq!(entry.resource_id, created);
                    } else if audited.resource == "Communication" && status == 303 {
                        // A sent message is named by its stored id.
                        assert!(entry.resource_id.parse::<i64>().is_ok(), "{path}");
                    } else if spec.path.contains("{id}") {
                        assert_eq!(entry.resource_id, id.to_string());
                    }
                }
            } else {
                assert_eq!(
                    status, 403,
                    "{engine:?} {role} must be refused {} {path} ({})",
                    spec.method, hand.why
                );
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
    // The front desk's text and the clinician's reached the provider.
    assert_eq!(twilio.received().len(), 2, "{engine:?}");
    assert!(
        protected >= 6 && rendered >= 40,
        "too few routes enumerated: {protected} protected, {rendered} pages rendered"
    );
    assert_eq!(
        app.store.verify_audit_chain().await.unwrap(),
        AuditChainStatus::Intact {
            entries: app.audit_count().await as i64
        }
    );
}

/// Checks that an allowed request got the page SPEC_ACCESS expects of it.
async fn check_page(
    hand: &Expected,
    path: &str,
    id: i64,
    who: &str,
    response: reqwest::Response,
    done_once: &mut bool,
) {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.unwrap();
    let what = format!("{who} {} {path}: {status} {location:?}", hand.method);
    let excerpt = || body.chars().take(600).collect::<String>();
    let redirects = |to: &str| {
        let to = to.replace("{id}", &id.to_string());
        assert_eq!(
            status,
            303,
            "{what}: expected a redirect to {to}\n{}",
            excerpt()
        );
        let location = location.as_deref().unwrap_or_default();
        assert!(
            location.starts_with(&to),
            "{what}: expected a redirect to {to}"
        );
    };
    match hand.page {
        Shows(marker) => {
            assert_eq!(status, 200, "{what}\n{}", excerpt());
            assert!(
                body.contains(marker),
                "{what}: no {marker:?}\n{}",
                excerpt()
            );
        }
        Redirects(to) => redirects(to),
        RefusedByRule(expected, marker) => {
            assert_eq!(status, expected, "{what}\n{}", excerpt());
            assert!(
                body.contains(marker),
                "{what}: no {marker:?}\n{}",
                excerpt()
            );
        }
        Once(to, then, marker) => {
            if *done_once {
                assert_eq!(status, then, "{what}\n{}", excerpt());
                assert!(
                    body.contains(marker),
                    "{what}: no {marker:?}\n{}",
                    excerpt()
                );
            } else {
                redirects(to);
                *done_once = true;
            }
        }
    }
}

/// A valid form for each POST route of the enumeration test (empty for the
/// others); `front_desk` is the front desk's user id (who consults).
fn valid_fields_for(path: &str, front_desk: i64) -> Vec<(&'static str, String)> {
    if let Some(fields) = crate::decisions::valid_fields_for(path) {
        return fields;
    }
    if let Some(fields) = crate::orders::valid_fields_for(path) {
        return fields;
    }
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
        "/staff/settings" => &[
            ("name", "Route Test Clinic"),
            ("phone", "(312) 555-0147"),
            ("privacy_notice", "We keep what you tell us private."),
        ],
        "/staff/register/receipts" => &[
            ("drug", "ketamine"),
            ("ndc", "0143-9508-10"),
            ("lot", "RT-1"),
            ("expiry", "2099-12-31"),
            ("concentration", "50"),
            ("volume_ml", "10"),
            ("vials", "1"),
            ("supplier", "Route Test Wholesale"),
        ],
        // The nurse's and the clinician's receipts above made vials 1 and 2,
        // full (10 mL each): a full count that matches.
        "/staff/register/counts" => &[
            ("kind", "end-of-day"),
            ("business", "close"),
            ("vial_1", "10"),
            ("vial_2", "10"),
        ],
        "/staff/register/settings" => &[("waste_witness_required", "yes")],
        "/staff/register/discrepancies/{id}/resolve" => &[("note", "Route test")],
        "/staff/inquiries/{id}/sms" => &[("body", "Route test")],
        "/staff/callbacks/{id}/attempts" => &[("outcome", "no-answer"), ("note", "")],
        // No staff member has availability in this test, so the slot is
        // refused by rule (422, audited as invalid): the route still runs.
        "/staff/inquiries/{id}/consultations" => &[("slot", "1@1795456800000")],
        "/staff/consultations/{id}/move" => &[("slot", "1@1795456800000")],
        "/staff/consultations/{id}/cancel" => &[("reason", "Route test")],
        "/staff/inquiries/{id}/email" => &[("subject", "Route test"), ("body", "Hello")],
        "/staff/inquiries/{id}/consultation" => &[
            ("pain_location", "Lower back"),
            ("pain_duration_amount", "18"),
            ("pain_duration_unit", "months"),
            ("next_step", "book-screening-visit"),
        ],
        "/staff/patients/{id}/portal-invite" => &[("channel", "email")],
        "/staff/patients/{id}/questionnaires" => &[("instrument", "phq-9")],
        "/staff/patients/{id}/questionnaires/paper" => &[("instrument", "phq-9"), ("item-1", "2")],
        "/staff/alerts/{id}/acknowledge" => &[("action", "Called the patient")],
        // The infusion session (area: sessions).
        "/staff/sessions/{id}/entries" => {
            &[("version", "1"), ("action", "note"), ("note", "Route test")]
        }
        "/staff/sessions/{id}/sign-off" => &[("version", "1"), ("note", "Route test")],
        "/staff/sessions/{id}/draws" => &[("vial", "1"), ("amount_ml", "1")],
        "/staff/sessions/{id}/administrations" => &[("draw", "1"), ("amount_mg", "1")],
        "/staff/settings/alarms" => &[
            ("systolic_above", "180"),
            ("systolic_below", "90"),
            ("heart_rate_above", "120"),
            ("heart_rate_below", "50"),
            ("oxygen_saturation_below", "92"),
            ("respiratory_rate_below", "10"),
        ],
        "/staff/alerts/settings" => &[
            ("ack_minutes", "45"),
            ("on_call_email", "oncall@clinic.test"),
        ],
        "/staff/inquiries/{id}/call" => &[
            ("reached", "yes"),
            ("booked", "no"),
            ("asked", "How long is a session?"),
        ],
        "/staff/inquiries/{id}/chart" => &[
            ("given_name", "Route"),
            ("family_name", "Test"),
            ("birth_date", "1970-01-01"),
            ("sex", "female"),
        ],
        // The chart's records (area: chart).
        "/staff/patients/{id}/problems" => &[
            ("icd10cm_code", "G90.521"),
            ("onset_date", "2024-01-10"),
            ("diagnosed_by", "Dr. Route Test"),
            ("qualification", "physician"),
            ("diagnosed_on", "2024-03-01"),
            ("recorded_on", "2025-01-01"),
        ],
        "/staff/patients/{id}/medications" => &[
            ("name", "Gabapentin 300 mg capsule"),
            ("rxnorm_code", "25480"),
            ("started_on", "2024-04-01"),
            ("stopped_on", "2024-07-01"),
            ("treatment_class", "gabapentinoid"),
            ("stop_reason", "ineffective"),
            ("recorded_on", "2025-01-01"),
        ],
        "/staff/patients/{id}/medications/stop" => {
            &[("medication_id", "0"), ("stopped_on", "2025-01-01")]
        }
        "/staff/patients/{id}/allergies" => &[
            ("substance", "Penicillin"),
            ("kind", "allergy"),
            ("category", "medication"),
            ("criticality", "high"),
            ("reaction", "hives"),
            ("recorded_on", "2025-01-01"),
        ],
        "/staff/patients/{id}/entered-in-error" => &[
            ("entry", "medication"),
            ("entry_id", "999999"),
            ("reason", "Route test"),
        ],
        "/staff/patients/{id}/list-reviews" => {
            &[("list", "problems"), ("reviewed_on", "2025-01-01")]
        }
        "/staff/patients/{id}/vitals" => &[
            ("observed_at", "2025-01-01T09:30"),
            ("systolic", "122"),
            ("diastolic", "78"),
            ("weight_kg", "70.5"),
        ],
        "/staff/patients/{id}/contraindication-review" => {
            &[("reviewed_on", "2025-01-01"), ("none_present", "1")]
        }
        "/staff/patients/{id}/pre-infusion-risks" => &[("assessed_on", "2025-01-01")],
        "/staff/settings/questionnaires" => &[
            ("instrument", "nrs-pain"),
            ("instrument", "phq-9"),
            ("timepoint", "baseline"),
            ("channel", "email"),
        ],
        "/staff/settings/screening" => &[
            ("minimum_conventional_classes", "2"),
            ("max_upload_mib", "10"),
            ("window_medication-list", "90"),
            ("unit_medication-list", "days"),
            ("window_allergies", "365"),
            ("unit_allergies", "days"),
            ("window_problem-list", "365"),
            ("unit_problem-list", "days"),
            ("window_vital-signs", "30"),
            ("unit_vital-signs", "days"),
            ("window_diagnosis-letter", "12"),
            ("unit_diagnosis-letter", "months"),
            ("window_ecg", "12"),
            ("unit_ecg", "months"),
            ("window_liver-function-tests", "90"),
            ("unit_liver-function-tests", "days"),
            (
                "tier_poorly-controlled-cardiovascular-disease",
                "not-eligible-unless-overridden",
            ),
            ("tier_pregnancy", "not-eligible-unless-overridden"),
            ("tier_active-psychosis", "not-eligible-unless-overridden"),
            (
                "tier_severe-hepatic-disease",
                "not-eligible-unless-overridden",
            ),
            ("tier_moderate-hepatic-disease", "refer-for-review"),
            ("tier_elevated-intracranial-pressure", "refer-for-review"),
            ("tier_elevated-intraocular-pressure", "refer-for-review"),
            ("tier_active-substance-abuse", "refer-for-review"),
            (
                "tier_significant-blood-pressure-rise-hazard",
                "not-eligible-unless-overridden",
            ),
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
