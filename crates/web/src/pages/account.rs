//! `/staff/account`: the signed-in staff member's own account, and what
//! their role gives access to under the grant table (SPEC §2), so that a
//! "Not allowed" page can be understood. No health data: not audited.

use askama::Template;
use axum::response::Response;
use respite_domain::Permission;

use super::{render, Nav, StaffPage};
use crate::AppError;

/// Each permission as a person reads it, in the order the page lists them.
const PERMISSIONS: &[(Permission, &str)] = &[
    (
        Permission::ReadInquiries,
        "See the inquiry queue and the contact details people left",
    ),
    (
        Permission::WriteInquiries,
        "Call people back, log attempts, book consultations and write to people",
    ),
    (
        Permission::ReadPatientDirectory,
        "Find patients by name, MRN or phone",
    ),
    (
        Permission::ReadClinicalRecords,
        "Read charts: conditions, observations, sessions, notes",
    ),
    (
        Permission::WriteClinicalRecords,
        "Write clinical records, and create a chart from an inquiry",
    ),
    (Permission::ReadSchedule, "See the consultation schedule"),
    (
        Permission::ManageSchedule,
        "Change opening hours, holidays and availability",
    ),
    (Permission::ReadAuditTrail, "Review the audit trail"),
    (Permission::ManageUsers, "Create and change staff accounts"),
    (
        Permission::ReadControlledSubstanceRegister,
        "See the controlled-substance register",
    ),
    (
        Permission::KeepControlledSubstanceRegister,
        "Record receipts, draws, doses given, wastes and counts in the drug register",
    ),
    (
        Permission::ResolveRegisterDiscrepancies,
        "Resolve a drug count's discrepancy",
    ),
    (
        Permission::ExportControlledSubstanceRegister,
        "Export the drug register for an inspection",
    ),
];

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    email: String,
    granted: Vec<&'static str>,
    not_granted: Vec<&'static str>,
}

/// `GET /staff/account`.
pub async fn account(page: StaffPage) -> Result<Response, AppError> {
    let (granted, not_granted): (Vec<_>, Vec<_>) = PERMISSIONS
        .iter()
        .partition(|(permission, _)| page.may(*permission));
    let words = |list: Vec<&(Permission, &'static str)>| list.into_iter().map(|p| p.1).collect();
    render(&AccountPage {
        nav: page.nav(),
        email: page.session.user.email.clone(),
        granted: words(granted),
        not_granted: words(not_granted),
    })
}
