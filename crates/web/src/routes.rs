//! Every route of the application, in one table, with the access each needs
//! and whether it touches health data. Tests enumerate [`route_specs`] to
//! prove that each protected route refuses the unsigned and the wrong role,
//! and audits the allowed.

use std::convert::Infallible;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use respite_domain::Permission::*;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::access::{authorize, Access, Audited, Guard, RouteSpec};
use crate::pages::{
    account, audit, callbacks, chart, consultation_notes, consultations, decisions, orders, plans,
    portal, portal_staff, public, questionnaire_settings, register, results, schedule, screening,
    sessions, settings, sign_in, staff, trajectories, webhooks, worklist,
};
use crate::{csrf, headers, AppState};

const fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    audited: Option<Audited>,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        audited,
    }
}

const fn audited(resource: &'static str, action: &'static str) -> Option<Audited> {
    Some(Audited { resource, action })
}

/// The route table. Add a route here, and only here.
fn table() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    vec![
        (route("GET", "/", Public, None), get(public::home)),
        (
            route("POST", "/inquiries", Public, audited("Inquiry", "create")),
            post(public::submit_inquiry),
        ),
        (
            route("GET", "/inquiries/thanks", Public, None),
            get(public::thanks),
        ),
        (route("GET", "/healthz", Public, None), get(public::healthz)),
        // The free phone consultation, booked by the person without an
        // account; changes need the signed link of the confirmation.
        (
            route("GET", "/consultations", Public, None),
            get(consultations::book_form),
        ),
        (
            route(
                "POST",
                "/consultations",
                Public,
                audited("Appointment", "create"),
            ),
            post(consultations::book),
        ),
        (
            route(
                "GET",
                "/consultations/booking",
                Public,
                audited("Appointment", "read"),
            ),
            get(consultations::booking_page),
        ),
        (
            route(
                "GET",
                "/consultations/booking.ics",
                Public,
                audited("Appointment", "read"),
            ),
            get(consultations::booking_ics),
        ),
        (
            // A staff member's iCalendar feed: the secret in the address is
            // the credential (calendar programs cannot sign in).
            route(
                "GET",
                "/ical/{file}",
                Public,
                audited("Appointment", "search"),
            ),
            get(consultations::staff_feed),
        ),
        (
            route(
                "POST",
                "/consultations/booking/cancel",
                Public,
                audited("Appointment", "update"),
            ),
            post(consultations::cancel),
        ),
        (
            route(
                "GET",
                "/consultations/booking/reschedule",
                Public,
                audited("Appointment", "read"),
            ),
            get(consultations::reschedule_form),
        ),
        (
            route(
                "POST",
                "/consultations/booking/reschedule",
                Public,
                audited("Appointment", "update"),
            ),
            post(consultations::reschedule),
        ),
        // After a cancellation the person books again from the cancelled
        // consultation's link: same thread, the link is the credential.
        (
            route(
                "GET",
                "/consultations/booking/again",
                Public,
                audited("Appointment", "read"),
            ),
            get(consultations::again_form),
        ),
        (
            route(
                "POST",
                "/consultations/booking/again",
                Public,
                audited("Appointment", "create"),
            ),
            post(consultations::again),
        ),
        // Public, but every request must carry the provider's signature
        // (checked by the handler); outside the CSRF layer.
        (
            route(
                "POST",
                "/webhooks/sms",
                Public,
                audited("Communication", "create"),
            ),
            post(webhooks::sms),
        ),
        (
            route(
                "POST",
                "/webhooks/voice",
                Public,
                audited("Communication", "create"),
            ),
            post(webhooks::voice),
        ),
        (
            route("GET", "/treatment", Public, None),
            get(public::treatment),
        ),
        (route("GET", "/privacy", Public, None), get(public::privacy)),
        (
            route("GET", "/static/favicon.svg", Public, None),
            get(public::favicon),
        ),
        (
            route("GET", "/favicon.ico", Public, None),
            get(public::favicon),
        ),
        (
            route("GET", "/static/site.css", Public, None),
            get(public::stylesheet),
        ),
        // Page scripts are files, never inline: the Content-Security-Policy
        // refuses inline script.
        (
            route("GET", "/static/home.js", Public, None),
            get(headers::home_script),
        ),
        (
            route("GET", "/static/book.js", Public, None),
            get(headers::book_script),
        ),
        (
            route("GET", "/staff/login", Public, None),
            get(sign_in::form),
        ),
        (
            route("POST", "/staff/login", Public, None),
            post(sign_in::sign_in),
        ),
        (
            route("POST", "/staff/logout", SignedIn, None),
            post(sign_in::sign_out),
        ),
        (
            route("GET", "/staff/account", SignedIn, None),
            get(account::account),
        ),
        (
            route(
                "GET",
                "/staff",
                Staff(ReadInquiries),
                audited("Inquiry", "search"),
            ),
            get(staff::home),
        ),
        (
            route(
                "GET",
                "/staff/inquiries/{id}",
                Staff(ReadInquiries),
                audited("Inquiry", "read"),
            ),
            get(staff::inquiry),
        ),
        (
            route(
                "POST",
                "/staff/inquiries/{id}/sms",
                Staff(WriteInquiries),
                audited("Communication", "create"),
            ),
            post(staff::send_sms),
        ),
        (
            route(
                "POST",
                "/staff/inquiries/{id}/email",
                Staff(WriteInquiries),
                audited("Communication", "create"),
            ),
            post(staff::send_email),
        ),
        (
            // Staff confirmed an unverified address with the person on a
            // call: it becomes the thread's, with consent.
            route(
                "POST",
                "/staff/inquiries/{id}/verify-contact",
                Staff(WriteInquiries),
                audited("Inquiry", "update"),
            ),
            post(staff::verify_contact),
        ),
        (
            route(
                "GET",
                "/staff/callbacks",
                Staff(ReadInquiries),
                audited("CallbackTask", "search"),
            ),
            get(callbacks::queue),
        ),
        (
            // The path id is the callback task's.
            route(
                "POST",
                "/staff/callbacks/{id}/attempts",
                Staff(WriteInquiries),
                audited("CallbackTask", "update"),
            ),
            post(callbacks::record_attempt),
        ),
        (
            // The consultation's clinical note (pain history, onset,
            // diagnosis, treatments tried, red flags, next step): nurses and
            // clinicians; SPEC §2 keeps clinical notes from the front desk.
            // The path id, and so the audit's resource id, is the inquiry's.
            route(
                "GET",
                "/staff/inquiries/{id}/consultation",
                Staff(ReadClinicalRecords),
                audited("ConsultationNote", "read"),
            ),
            get(consultation_notes::consultation_form),
        ),
        (
            // Each save is a new version; earlier ones are kept.
            route(
                "POST",
                "/staff/inquiries/{id}/consultation",
                Staff(WriteClinicalRecords),
                audited("ConsultationNote", "create"),
            ),
            post(consultation_notes::save_consultation),
        ),
        (
            // Creating a chart writes a clinical record (a condition), so it
            // needs WriteClinicalRecords: nurses and clinicians, not the
            // front desk. The audit names the new patient on success, the
            // inquiry (path id) otherwise.
            route(
                "GET",
                "/staff/inquiries/{id}/chart",
                Staff(WriteClinicalRecords),
                audited("ConsultationNote", "read"),
            ),
            get(consultation_notes::convert_form),
        ),
        (
            route(
                "POST",
                "/staff/inquiries/{id}/chart",
                Staff(WriteClinicalRecords),
                audited("Patient", "create"),
            ),
            post(consultation_notes::convert),
        ),
        (
            route(
                "GET",
                "/staff/consultations",
                Staff(ReadInquiries),
                audited("Appointment", "search"),
            ),
            get(consultations::staff_list),
        ),
        (
            route(
                "POST",
                "/staff/inquiries/{id}/consultations",
                Staff(WriteInquiries),
                audited("Appointment", "create"),
            ),
            post(consultations::staff_book),
        ),
        (
            // The path id is the consultation's.
            route(
                "POST",
                "/staff/consultations/{id}/no-show",
                Staff(WriteInquiries),
                audited("Appointment", "update"),
            ),
            post(consultations::no_show),
        ),
        // One consultation and what staff do with it (SPEC §1 step 2: moved,
        // cancelled with a reason, held). The path id is the consultation's.
        (
            route(
                "GET",
                "/staff/consultations/{id}",
                Staff(ReadInquiries),
                audited("Appointment", "read"),
            ),
            get(consultations::staff_consultation),
        ),
        (
            route(
                "POST",
                "/staff/consultations/{id}/move",
                Staff(WriteInquiries),
                audited("Appointment", "update"),
            ),
            post(consultations::staff_move),
        ),
        (
            route(
                "POST",
                "/staff/consultations/{id}/cancel",
                Staff(WriteInquiries),
                audited("Appointment", "update"),
            ),
            post(consultations::staff_cancel),
        ),
        (
            route(
                "POST",
                "/staff/consultations/{id}/held",
                Staff(WriteInquiries),
                audited("Appointment", "update"),
            ),
            post(consultations::staff_held),
        ),
        // The consultation schedule: no health data, but a change decides
        // which times people are offered, so each change is audited.
        (
            route("GET", "/staff/schedule", Staff(ReadSchedule), None),
            get(schedule::schedule_page),
        ),
        (
            route(
                "POST",
                "/staff/schedule/hours",
                Staff(ManageSchedule),
                audited("Schedule", "update"),
            ),
            post(schedule::save_hours),
        ),
        (
            route(
                "POST",
                "/staff/schedule/holidays",
                Staff(ManageSchedule),
                audited("Schedule", "create"),
            ),
            post(schedule::add_holiday),
        ),
        (
            route(
                "POST",
                "/staff/schedule/holidays/remove",
                Staff(ManageSchedule),
                audited("Schedule", "delete"),
            ),
            post(schedule::remove_holiday),
        ),
        (
            route(
                "POST",
                "/staff/schedule/availability",
                Staff(ManageSchedule),
                audited("Schedule", "create"),
            ),
            post(schedule::add_availability),
        ),
        (
            // The path id is the availability interval's.
            route(
                "POST",
                "/staff/schedule/availability/{id}/remove",
                Staff(ManageSchedule),
                audited("Schedule", "delete"),
            ),
            post(schedule::remove_availability),
        ),
        (
            route(
                "GET",
                "/staff/patients",
                Staff(ReadPatientDirectory),
                audited("Patient", "search"),
            ),
            get(staff::patients),
        ),
        (
            route(
                "GET",
                "/staff/patients/{id}",
                Staff(ReadClinicalRecords),
                audited("Patient", "read"),
            ),
            get(staff::patient_chart),
        ),
        // The chart's records (SPEC §1.3): nurses and clinicians write,
        // and they alone read; the front desk never sees clinical entries.
        // Every write's audit entry names the patient (the path id).
        (
            route(
                "GET",
                "/staff/patients/{id}/records",
                Staff(ReadClinicalRecords),
                audited("Patient", "read"),
            ),
            get(chart::records),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/problems",
                Staff(WriteClinicalRecords),
                audited("Condition", "create"),
            ),
            post(chart::add_problem),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/medications",
                Staff(WriteClinicalRecords),
                audited("MedicationStatement", "create"),
            ),
            post(chart::add_medication),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/medications/stop",
                Staff(WriteClinicalRecords),
                audited("MedicationStatement", "update"),
            ),
            post(chart::stop_medication),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/entered-in-error",
                Staff(WriteClinicalRecords),
                audited("ChartEntry", "update"),
            ),
            post(chart::mark_entered_in_error),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/allergies",
                Staff(WriteClinicalRecords),
                audited("AllergyIntolerance", "create"),
            ),
            post(chart::add_allergy),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/list-reviews",
                Staff(WriteClinicalRecords),
                audited("List", "create"),
            ),
            post(chart::review_list),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/vitals",
                Staff(WriteClinicalRecords),
                audited("Observation", "create"),
            ),
            post(chart::add_vitals),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/contraindication-review",
                Staff(WriteClinicalRecords),
                audited("RiskAssessment", "create"),
            ),
            post(chart::add_contraindication_review),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/pre-infusion-risks",
                Staff(WriteClinicalRecords),
                audited("RiskAssessment", "create"),
            ),
            post(chart::add_pre_infusion_risks),
        ),
        (
            // multipart/form-data with the file (see `is_upload`).
            route(
                "POST",
                "/staff/patients/{id}/documents",
                Staff(WriteClinicalRecords),
                audited("DocumentReference", "create"),
            ),
            post(chart::upload_document),
        ),
        (
            // The path id is the document's.
            route(
                "GET",
                "/staff/documents/{id}",
                Staff(ReadClinicalRecords),
                audited("DocumentReference", "read"),
            ),
            get(chart::download_document),
        ),
        (
            route(
                "GET",
                "/staff/patients/{id}/screening",
                Staff(ReadClinicalRecords),
                audited("Patient", "read"),
            ),
            get(screening::screening_page),
        ),
        // The clinic's screening settings (screening.md: a clinic may change
        // them; the setting and who changed it are audited).
        (
            route(
                "GET",
                "/staff/settings/screening",
                Staff(ManageClinicSettings),
                audited("ClinicSetting", "read"),
            ),
            get(screening::settings_page),
        ),
        (
            route(
                "POST",
                "/staff/settings/screening",
                Staff(ManageClinicSettings),
                audited("ClinicSetting", "update"),
            ),
            post(screening::save_settings),
        ),
        (
            route(
                "GET",
                "/staff/audit",
                Staff(ReadAuditTrail),
                audited("AuditEvent", "search"),
            ),
            get(audit::audit_trail),
        ),
        // Screening decisions, records requests, treatment plans and the
        // clinical work list (SPEC §1 steps 3 and 4). Nurses and clinicians
        // read them; clinicians alone sign decisions and write plans (§2).
        (
            route("GET", "/static/print.js", Public, None),
            get(plans::print_script),
        ),
        (
            route(
                "GET",
                "/staff/worklist",
                Staff(ReadClinicalRecords),
                audited("Patient", "search"),
            ),
            get(worklist::worklist),
        ),
        (
            route(
                "GET",
                "/staff/patients/{id}/decision",
                Staff(ReadClinicalRecords),
                audited("ScreeningDecision", "read"),
            ),
            get(decisions::decision),
        ),
        (
            // Clinicians alone sign (SPEC §2); the audit names the patient.
            route(
                "POST",
                "/staff/patients/{id}/decision",
                Staff(SignScreeningDecisions),
                audited("ScreeningDecision", "create"),
            ),
            post(decisions::sign_decision),
        ),
        (
            route(
                "GET",
                "/staff/patients/{id}/records-requests",
                Staff(ReadClinicalRecords),
                audited("RecordsRequest", "read"),
            ),
            get(decisions::records_requests),
        ),
        (
            // Records are the nurse's and the clinician's work (SPEC §2);
            // the audit names the patient.
            route(
                "POST",
                "/staff/patients/{id}/records-requests",
                Staff(WriteClinicalRecords),
                audited("RecordsRequest", "create"),
            ),
            post(decisions::create_records_request),
        ),
        (
            // The path id is the request's.
            route(
                "GET",
                "/staff/records-requests/{id}",
                Staff(ReadClinicalRecords),
                audited("RecordsRequest", "read"),
            ),
            get(decisions::records_letter),
        ),
        (
            route(
                "POST",
                "/staff/records-requests/{id}/received",
                Staff(WriteClinicalRecords),
                audited("RecordsRequest", "update"),
            ),
            post(decisions::mark_received),
        ),
        (
            route(
                "GET",
                "/staff/patients/{id}/plan",
                Staff(ReadClinicalRecords),
                audited("CarePlan", "read"),
            ),
            get(plans::plan_page),
        ),
        (
            route(
                "GET",
                "/staff/patients/{id}/plan/edit",
                Staff(WriteTreatmentPlans),
                audited("CarePlan", "read"),
            ),
            get(plans::plan_form),
        ),
        (
            // Each save is a new version; the audit names the patient.
            route(
                "POST",
                "/staff/patients/{id}/plan",
                Staff(WriteTreatmentPlans),
                audited("CarePlan", "create"),
            ),
            post(plans::save_plan),
        ),
        (
            // The path id is the plan version's.
            route(
                "GET",
                "/staff/plans/{id}",
                Staff(ReadClinicalRecords),
                audited("CarePlan", "read"),
            ),
            get(plans::plan_version),
        ),
        (
            route(
                "GET",
                "/staff/plans/{id}/letter",
                Staff(ReadClinicalRecords),
                audited("CarePlan", "read"),
            ),
            get(plans::plan_letter),
        ),
        // The questionnaire schedule: which instruments, when, licences and
        // reminders (clinic settings, SPEC §2: admin); audited.
        (
            route(
                "GET",
                "/staff/settings/questionnaires",
                Staff(ManageClinicSettings),
                audited("ClinicSetting", "read"),
            ),
            get(questionnaire_settings::settings_page),
        ),
        (
            route(
                "POST",
                "/staff/settings/questionnaires",
                Staff(ManageClinicSettings),
                audited("ClinicSetting", "update"),
            ),
            post(questionnaire_settings::save_settings),
        ),
        // The clinic's public details (clinic settings, SPEC §2: admin); not
        // health data, but each change is audited.
        (
            route("GET", "/staff/settings", Staff(ManageClinicSettings), None),
            get(settings::settings_page),
        ),
        (
            route(
                "POST",
                "/staff/settings",
                Staff(ManageClinicSettings),
                audited("Organization", "update"),
            ),
            post(settings::save_settings),
        ),
        // The front desk's record of the consultation call (reached, booked,
        // what was asked): contact data, no clinical content (SPEC §2). The
        // path id is the inquiry's; each save is a new version.
        (
            route(
                "GET",
                "/staff/inquiries/{id}/call",
                Staff(ReadInquiries),
                audited("ConsultationCall", "read"),
            ),
            get(consultation_notes::call_form),
        ),
        (
            route(
                "POST",
                "/staff/inquiries/{id}/call",
                Staff(WriteInquiries),
                audited("ConsultationCall", "create"),
            ),
            post(consultation_notes::save_call),
        ),
        // The controlled-substance register (SPEC §1 step 5, §2): seen by
        // nurses, clinicians and the administrator, kept by nurses and
        // clinicians, discrepancies resolved by clinicians and the
        // administrator, exported by the administrator; never the front
        // desk. Entries name patients: every request is audited.
        (
            route(
                "GET",
                "/staff/register",
                Staff(ReadControlledSubstanceRegister),
                audited("DrugRegister", "search"),
            ),
            get(register::register_page),
        ),
        (
            route(
                "GET",
                "/staff/register/vials/{id}",
                Staff(ReadControlledSubstanceRegister),
                audited("DrugRegister", "read"),
            ),
            get(register::vial_page),
        ),
        (
            route(
                "GET",
                "/staff/register/count",
                Staff(KeepControlledSubstanceRegister),
                audited("DrugRegister", "search"),
            ),
            get(register::count_form),
        ),
        (
            route(
                "POST",
                "/staff/register/receipts",
                Staff(KeepControlledSubstanceRegister),
                audited("DrugRegister", "create"),
            ),
            post(register::receive),
        ),
        (
            // The path id is the vial's.
            route(
                "POST",
                "/staff/register/vials/{id}/draws",
                Staff(KeepControlledSubstanceRegister),
                audited("DrugRegister", "create"),
            ),
            post(register::draw),
        ),
        (
            route(
                "POST",
                "/staff/register/vials/{id}/administrations",
                Staff(KeepControlledSubstanceRegister),
                audited("DrugRegister", "create"),
            ),
            post(register::administration),
        ),
        (
            route(
                "POST",
                "/staff/register/vials/{id}/waste",
                Staff(KeepControlledSubstanceRegister),
                audited("DrugRegister", "create"),
            ),
            post(register::waste),
        ),
        (
            route(
                "POST",
                "/staff/register/vials/{id}/corrections",
                Staff(KeepControlledSubstanceRegister),
                audited("DrugRegister", "create"),
            ),
            post(register::correction),
        ),
        (
            route(
                "POST",
                "/staff/register/counts",
                Staff(KeepControlledSubstanceRegister),
                audited("DrugRegister", "create"),
            ),
            post(register::count),
        ),
        (
            // The path id is the count entry's.
            route(
                "POST",
                "/staff/register/discrepancies/{id}/resolve",
                Staff(ResolveRegisterDiscrepancies),
                audited("DrugRegister", "update"),
            ),
            post(register::resolve),
        ),
        (
            route(
                "GET",
                "/staff/register/export.csv",
                Staff(ExportControlledSubstanceRegister),
                audited("DrugRegister", "export"),
            ),
            get(register::export),
        ),
        (
            // The waste-witness setting: a clinic setting (admin).
            route(
                "POST",
                "/staff/register/settings",
                Staff(ManageClinicSettings),
                audited("Organization", "update"),
            ),
            post(register::save_settings),
        ),
        // Infusion day (SPEC §1 step 5; SPEC §2): the protocol library
        // (admins manage it; nurses, clinicians and admins read it; not
        // health data), the clinician's order, and the second check by
        // another nurse or clinician.
        (
            route("GET", "/staff/protocols", Staff(ReadProtocols), None),
            get(orders::protocols_page),
        ),
        (
            // The path id is the protocol version's; the change is a new version.
            route(
                "POST",
                "/staff/protocols/{id}/active",
                Staff(ManageProtocols),
                audited("PlanDefinition", "create"),
            ),
            post(orders::set_protocol_active),
        ),
        (
            route(
                "POST",
                "/staff/settings/infusion",
                Staff(ManageClinicSettings),
                audited("ClinicSetting", "update"),
            ),
            post(orders::save_infusion_settings),
        ),
        (
            route(
                "GET",
                "/staff/patients/{id}/orders",
                Staff(ReadClinicalRecords),
                audited("Patient", "read"),
            ),
            get(orders::patient_orders),
        ),
        (
            route(
                "GET",
                "/staff/patients/{id}/orders/new",
                Staff(OrderInfusions),
                audited("Patient", "read"),
            ),
            get(orders::new_order_page),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/orders",
                Staff(OrderInfusions),
                audited("MedicationRequest", "create"),
            ),
            post(orders::create_order),
        ),
        (
            // The path id is the order's.
            route(
                "GET",
                "/staff/orders/{id}",
                Staff(ReadClinicalRecords),
                audited("MedicationRequest", "read"),
            ),
            get(orders::order_view),
        ),
        (
            route(
                "POST",
                "/staff/orders/{id}/check",
                Staff(WriteClinicalRecords),
                audited("MedicationRequest", "update"),
            ),
            post(orders::check_order),
        ),
        // The infusion session (SPEC §1 step 5; SPEC §2: nurses document
        // sessions, clinicians sign them off). Opened from a checked order;
        // every action is one POST with the page's version.
        (
            route(
                "GET",
                "/staff/sessions",
                Staff(DocumentInfusionSessions),
                audited("Procedure", "search"),
            ),
            get(sessions::sessions_list),
        ),
        (
            // The path id is the order's.
            route(
                "POST",
                "/staff/orders/{id}/session",
                Staff(DocumentInfusionSessions),
                audited("Procedure", "create"),
            ),
            post(sessions::open_session),
        ),
        (
            route(
                "GET",
                "/staff/sessions/{id}",
                Staff(DocumentInfusionSessions),
                audited("Procedure", "read"),
            ),
            get(sessions::session_page),
        ),
        (
            route(
                "POST",
                "/staff/sessions/{id}/entries",
                Staff(DocumentInfusionSessions),
                audited("Procedure", "update"),
            ),
            post(sessions::record),
        ),
        (
            route(
                "POST",
                "/staff/sessions/{id}/sign-off",
                Staff(SignOffInfusionSessions),
                audited("Procedure", "update"),
            ),
            post(sessions::sign_off),
        ),
        (
            route(
                "POST",
                "/staff/sessions/{id}/draws",
                Staff(KeepControlledSubstanceRegister),
                audited("DrugRegister", "create"),
            ),
            post(sessions::draw),
        ),
        (
            route(
                "POST",
                "/staff/sessions/{id}/administrations",
                Staff(KeepControlledSubstanceRegister),
                audited("DrugRegister", "create"),
            ),
            post(sessions::administration),
        ),
        (
            route(
                "GET",
                "/staff/settings/alarms",
                Staff(ManageClinicSettings),
                None,
            ),
            get(sessions::alarm_settings_page),
        ),
        (
            route(
                "POST",
                "/staff/settings/alarms",
                Staff(ManageClinicSettings),
                audited("ClinicSetting", "update"),
            ),
            post(sessions::save_alarm_settings),
        ),
        // The patient portal (SPEC §1 step 6, §2 patient role). Sign-in is
        // public; every other portal route needs a portal session and finds
        // its records through the session's patient (pages/portal.rs).
        (
            route("GET", "/portal/sign-in", Public, None),
            get(portal::sign_in_page),
        ),
        (
            // Audited by the handler, as the patient, once the link names one.
            route("POST", "/portal/sign-in", Public, None),
            post(portal::password_sign_in),
        ),
        (
            route("GET", "/portal/link", Public, None),
            get(portal::link_page),
        ),
        (
            route("POST", "/portal/link", Public, None),
            post(portal::use_link),
        ),
        (
            route("GET", "/portal/crisis", Public, None),
            get(portal::crisis),
        ),
        (
            route("GET", "/portal/", Patient, audited("Patient", "read")),
            get(portal::home),
        ),
        (
            route("POST", "/portal/sign-out", Patient, None),
            post(portal::sign_out),
        ),
        (
            route(
                "POST",
                "/portal/password",
                Patient,
                audited("Patient", "update"),
            ),
            post(portal::set_password),
        ),
        (
            route(
                "GET",
                "/portal/questionnaires/{id}",
                Patient,
                audited("QuestionnaireResponse", "read"),
            ),
            get(portal::question),
        ),
        (
            route(
                "POST",
                "/portal/questionnaires/{id}/answers",
                Patient,
                audited("QuestionnaireResponse", "update"),
            ),
            post(portal::answer),
        ),
        (
            route(
                "POST",
                "/portal/questionnaires/{id}/submit",
                Patient,
                audited("QuestionnaireResponse", "update"),
            ),
            post(portal::submit),
        ),
        // Questionnaires and the portal from the chart: nurses and
        // clinicians (SPEC §2: nurses keep questionnaires). The path id is
        // the patient's.
        (
            route(
                "POST",
                "/staff/patients/{id}/portal-invite",
                Staff(WriteClinicalRecords),
                audited("Patient", "update"),
            ),
            post(portal_staff::invite),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/questionnaires",
                Staff(WriteClinicalRecords),
                audited("Questionnaire", "create"),
            ),
            post(portal_staff::assign),
        ),
        (
            route(
                "GET",
                "/staff/patients/{id}/questionnaires/paper",
                Staff(WriteClinicalRecords),
                audited("Patient", "read"),
            ),
            get(portal_staff::paper_form),
        ),
        (
            route(
                "POST",
                "/staff/patients/{id}/questionnaires/paper",
                Staff(WriteClinicalRecords),
                audited("QuestionnaireResponse", "create"),
            ),
            post(portal_staff::paper_submit),
        ),
        // Clinic-wide results (SPEC §1 step 6): aggregates for nurses,
        // clinicians and admins; the CSV of every table is an export.
        (
            route(
                "GET",
                "/staff/results",
                Staff(ReadClinicResults),
                audited("MeasureReport", "read"),
            ),
            get(results::results_page),
        ),
        (
            route(
                "GET",
                "/staff/results.csv",
                Staff(ReadClinicResults),
                audited("MeasureReport", "export"),
            ),
            get(results::export),
        ),
        // PHQ-9 safety alerts: seen by nurses, clinicians and admins (an
        // escalation is shown to admins); acknowledged by clinicians.
        (
            route(
                "GET",
                "/staff/alerts",
                Staff(ReadSafetyAlerts),
                audited("Flag", "search"),
            ),
            get(portal_staff::alerts),
        ),
        (
            route(
                "POST",
                "/staff/alerts/{id}/acknowledge",
                Staff(AcknowledgeSafetyAlerts),
                audited("Flag", "update"),
            ),
            post(portal_staff::acknowledge),
        ),
        (
            // The portal's link lifetime, the alerts' time to acknowledge
            // and the on-call contact: clinic settings (admin).
            route(
                "POST",
                "/staff/alerts/settings",
                Staff(ManageClinicSettings),
                audited("Organization", "update"),
            ),
            post(portal_staff::save_settings),
        ),
        // Outcomes per patient (SPEC §1 step 6): the chart's trajectories
        // tab and the table behind it (the path id is the patient's), and the
        // patient's own progress in the portal (no id: the session's own).
        (
            route(
                "GET",
                "/staff/patients/{id}/outcomes",
                Staff(ReadClinicalRecords),
                audited("Observation", "search"),
            ),
            get(trajectories::patient_outcomes),
        ),
        (
            route(
                "GET",
                "/staff/patients/{id}/outcomes.csv",
                Staff(ReadClinicalRecords),
                audited("Observation", "search"),
            ),
            get(trajectories::patient_outcomes_csv),
        ),
        (
            route(
                "GET",
                "/portal/progress",
                Patient,
                audited("Observation", "search"),
            ),
            get(trajectories::progress),
        ),
    ]
}

/// The rules of every route, for tests and documentation.
pub fn route_specs() -> Vec<RouteSpec> {
    table().into_iter().map(|(spec, _)| spec).collect()
}

/// The rules of the route `method` `path` (a matched route's pattern, e.g.
/// `/staff/inquiries/{id}`), for layers that run before the route's guard.
pub fn spec_of(method: &str, path: &str) -> Option<RouteSpec> {
    static SPECS: std::sync::OnceLock<Vec<RouteSpec>> = std::sync::OnceLock::new();
    SPECS
        .get_or_init(route_specs)
        .iter()
        .find(|spec| spec.method == method && spec.path == path)
        .copied()
}

/// Whether a route takes a file upload (`multipart/form-data`, a larger
/// body): the chart's documents.
pub fn is_upload(method: &str, path: &str) -> bool {
    method == "POST" && path == "/staff/patients/{id}/documents"
}

/// Whether a path is a provider's webhook: signature-checked instead of
/// CSRF-protected (the provider has no CSRF cookie).
pub fn is_webhook(path: &str) -> bool {
    path.starts_with("/webhooks/")
}

/// Builds the router: each route behind its own access guard, all but the
/// webhooks behind the CSRF check, all behind a body size limit and request
/// tracing.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    let mut webhooks = Router::new();
    for (spec, handler) in table() {
        let guard = Guard {
            app: state.clone(),
            spec,
        };
        // The body limit per route: an upload reads its file, every other
        // route a small form (the CSRF layer reads no more either).
        let handler = if is_upload(spec.method, spec.path) {
            handler
                .layer::<_, Infallible>(axum::extract::DefaultBodyLimit::max(
                    csrf::MAX_UPLOAD_BODY_BYTES,
                ))
                .layer::<_, Infallible>(RequestBodyLimitLayer::new(csrf::MAX_UPLOAD_BODY_BYTES))
        } else {
            handler.layer::<_, Infallible>(RequestBodyLimitLayer::new(csrf::MAX_FORM_BYTES))
        };
        let handler = handler.route_layer(from_fn_with_state(guard, authorize));
        if is_webhook(spec.path) {
            webhooks = webhooks.route(spec.path, handler);
        } else {
            router = router.route(spec.path, handler);
        }
    }
    let config = state.config.clone();
    let router = router
        .fallback(public::not_found)
        .layer(from_fn_with_state(
            state.clone(),
            crate::pages::errors::with_navigation,
        ))
        .layer(from_fn_with_state(
            csrf::Protection::new(state.clone()),
            csrf::protect,
        ))
        .merge(webhooks)
        // Spans name the matched route, never the URI: queries can hold
        // names, which are health data.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
                let route = request
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("unmatched", |p| p.as_str());
                tracing::info_span!("request", method = %request.method(), route)
            }),
        );
    hardening_layers(router, &config).with_state(state)
}

/// The layers against abuse, outside everything else (docs/SECURITY.md),
/// outermost last: a request that takes longer than the request timeout (a
/// slow body, a stuck handler) is answered 408; each request learns its
/// client's address (from a trusted proxy's `X-Forwarded-For`); the public
/// forms, webhooks and sign-in are rate-limited per client address; every
/// response carries the security headers (`headers.rs`).
fn hardening_layers(router: Router<AppState>, config: &crate::WebConfig) -> Router<AppState> {
    let trusted = std::sync::Arc::new(config.trusted_proxies.clone());
    let limiter = std::sync::Arc::new(crate::limits::RateLimiter::new(&config.rate_limits));
    router
        .layer(from_fn_with_state(limiter, crate::limits::limit))
        .layer(from_fn_with_state(trusted, crate::client::identify))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            config.connections.request_timeout,
        ))
        .layer(from_fn_with_state(
            headers::Https(config.secure_cookies),
            headers::secure,
        ))
}
