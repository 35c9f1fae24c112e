//! Roles (SPEC §2) and the one table that says which role holds which
//! permission. Access is denied unless this table grants it.

use std::fmt;
use std::str::FromStr;

/// A staff role. Patients are not staff: they sign in to the portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    FrontDesk,
    Nurse,
    Clinician,
    Admin,
}

/// Something a request may want to do. Routes name the permission they need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See the inquiry queue, with the contact data people left.
    ReadInquiries,
    /// Change an inquiry's status, log contact attempts.
    WriteInquiries,
    /// Find patients by name, see their demographics and contact data.
    ReadPatientDirectory,
    /// Read clinical records: conditions, observations, sessions, notes.
    ReadClinicalRecords,
    /// Write clinical records.
    WriteClinicalRecords,
    /// Review the audit trail.
    ReadAuditTrail,
    /// Create and change staff users.
    ManageUsers,
    /// See the consultation schedule: opening hours, holidays and who takes
    /// consultations when (no health data).
    ReadSchedule,
    /// Change opening hours, holidays and consultation availability.
    ManageSchedule,
    /// Sign a screening decision (eligible, not eligible, deferred) and any
    /// override it needs: clinicians only (SPEC §2, "screening decisions").
    SignScreeningDecisions,
    /// Write and revise a patient's multimodal treatment plan: clinicians only
    /// (SPEC §2, "treatment plans").
    WriteTreatmentPlans,
    /// Change the clinic's settings (contacts and hours shown to the public,
    /// screening windows and tiers): administrators (SPEC §2, "clinic settings").
    ManageClinicSettings,
    /// See the controlled-substance register (vials, balances, entries,
    /// counts): those who keep it (nurses, clinicians) and the
    /// administrator who reviews it (SPEC §1 step 5, §2); never the front
    /// desk, since entries name patients.
    ReadControlledSubstanceRegister,
    /// Record receipts, draws, administrations, wastes, counts and
    /// corrections in the register: the licensed staff who handle the drug,
    /// nurses and clinicians (SPEC §2: infusion session documentation).
    KeepControlledSubstanceRegister,
    /// Resolve a count's discrepancy with a note: clinicians and the
    /// administrator (SPEC §2: clinicians answer for orders, the
    /// administrator for audit review).
    ResolveRegisterDiscrepancies,
    /// Export the register for an inspection (CSV): the administrator
    /// (SPEC §2: audit review).
    ExportControlledSubstanceRegister,
    /// Read the protocol library (not health data): nurses, clinicians and
    /// administrators (SPEC §2: admins manage protocols, clinicians order
    /// from them, nurses give them).
    ReadProtocols,
    /// Add a protocol version or change which versions are active:
    /// administrators (SPEC §2, "protocols").
    ManageProtocols,
    /// Order an infusion and override a dose ceiling with a reason: clinicians
    /// only (SPEC §2, "infusion orders", "dose overrides with reason").
    OrderInfusions,
    /// See the PHQ-9 safety alerts and their escalations: nurses and
    /// clinicians (questionnaires, records), administrators (an escalated
    /// alert is shown to them, SPEC §1 step 6).
    ReadSafetyAlerts,
    /// Acknowledge a safety alert with the action taken: clinicians only
    /// (SPEC §1 step 6: "a person must acknowledge"; the assessment is a
    /// clinician's).
    AcknowledgeSafetyAlerts,
    /// See the clinic-wide results (responder rates, durability by condition
    /// and protocol) and export their tables: nurses, clinicians and
    /// administrators (SPEC §1 step 6, "clinic-wide results"). Aggregates
    /// only, no patient named; the front desk never sees clinical data (§2).
    ReadClinicResults,
    /// Document an infusion session: checklist, start, pause, rate changes,
    /// vitals, alarms, adverse events, recovery, Aldrete and discharge:
    /// nurses and clinicians (SPEC §2: "infusion session documentation").
    DocumentInfusionSessions,
    /// Sign off a discharged infusion session: clinicians only (SPEC §2:
    /// "infusion orders and sign-off"; dosing.md, Discharge: "signed by a
    /// clinician").
    SignOffInfusionSessions,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::FrontDesk, Role::Nurse, Role::Clinician, Role::Admin];

    /// The role's name on the command line and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::FrontDesk => "front-desk",
            Role::Nurse => "nurse",
            Role::Clinician => "clinician",
            Role::Admin => "admin",
        }
    }

    /// The role's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Role::FrontDesk => "Front desk",
            Role::Nurse => "Nurse",
            Role::Clinician => "Clinician",
            Role::Admin => "Administrator",
        }
    }

    /// Whether staff of this role take the free phone consultations (the
    /// front desk, whose work SPEC §2 lists as the consultation calendar, and
    /// clinicians), and so have weekly availability.
    pub fn takes_consultations(self) -> bool {
        matches!(self, Role::FrontDesk | Role::Clinician)
    }

    /// The single grant table (SPEC §2). Front desk sees contact data, never
    /// clinical notes; the administrator runs the system but, by the
    /// minimum-necessary principle, is not granted clinical records.
    pub fn grants(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            // The front desk books consultations, so it sees the schedule
            // the slots come from; it does not change it.
            Role::FrontDesk => matches!(
                permission,
                ReadInquiries | WriteInquiries | ReadPatientDirectory | ReadSchedule
            ),
            Role::Nurse => matches!(
                permission,
                ReadInquiries
                    | ReadPatientDirectory
                    | ReadClinicalRecords
                    | WriteClinicalRecords
                    | ReadControlledSubstanceRegister
                    | KeepControlledSubstanceRegister
                    | ReadProtocols
                    | ReadSafetyAlerts
                    | ReadClinicResults
                    | DocumentInfusionSessions
            ),
            Role::Clinician => matches!(
                permission,
                ReadInquiries
                    | WriteInquiries
                    | ReadPatientDirectory
                    | ReadClinicalRecords
                    | WriteClinicalRecords
                    | SignScreeningDecisions
                    | WriteTreatmentPlans
                    | ReadControlledSubstanceRegister
                    | KeepControlledSubstanceRegister
                    | ResolveRegisterDiscrepancies
                    | ReadProtocols
                    | OrderInfusions
                    | ReadSafetyAlerts
                    | AcknowledgeSafetyAlerts
                    | ReadClinicResults
                    | DocumentInfusionSessions
                    | SignOffInfusionSessions
            ),
            Role::Admin => matches!(
                permission,
                ReadInquiries
                    | ReadPatientDirectory
                    | ReadAuditTrail
                    | ManageUsers
                    | ReadSchedule
                    | ManageSchedule
                    | ManageClinicSettings
                    | ReadControlledSubstanceRegister
                    | ResolveRegisterDiscrepancies
                    | ExportControlledSubstanceRegister
                    | ReadProtocols
                    | ManageProtocols
                    | ReadSafetyAlerts
                    | ReadClinicResults
            ),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role: unknown role `{given}`; valid roles are front-desk, nurse, clinician, admin")]
pub struct UnknownRole {
    pub given: String,
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_desk_never_reads_clinical_records_or_audit() {
        assert!(!Role::FrontDesk.grants(Permission::ReadClinicalRecords));
        assert!(!Role::FrontDesk.grants(Permission::ReadAuditTrail));
        assert!(Role::FrontDesk.grants(Permission::ReadInquiries));
    }

    #[test]
    fn only_admin_reviews_audit_and_manages_users() {
        for role in Role::ALL {
            let is_admin = role == Role::Admin;
            assert_eq!(role.grants(Permission::ReadAuditTrail), is_admin);
            assert_eq!(role.grants(Permission::ManageUsers), is_admin);
        }
    }

    #[test]
    fn only_admin_changes_the_schedule_and_the_front_desk_sees_it() {
        for role in Role::ALL {
            assert_eq!(role.grants(Permission::ManageSchedule), role == Role::Admin);
            assert_eq!(
                role.grants(Permission::ReadSchedule),
                matches!(role, Role::Admin | Role::FrontDesk)
            );
        }
    }

    #[test]
    fn the_register_is_kept_by_licensed_staff_and_never_seen_by_the_front_desk() {
        use Permission::*;
        for role in Role::ALL {
            let licensed = matches!(role, Role::Nurse | Role::Clinician);
            assert_eq!(role.grants(KeepControlledSubstanceRegister), licensed);
            assert_eq!(
                role.grants(ReadControlledSubstanceRegister),
                role != Role::FrontDesk
            );
            assert_eq!(
                role.grants(ResolveRegisterDiscrepancies),
                matches!(role, Role::Clinician | Role::Admin)
            );
            assert_eq!(
                role.grants(ExportControlledSubstanceRegister),
                role == Role::Admin
            );
        }
    }

    #[test]
    fn role_names_round_trip_and_unknown_lists_valid_ones() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        let err = "doctor".parse::<Role>().unwrap_err();
        assert!(err
            .to_string()
            .contains("front-desk, nurse, clinician, admin"));
    }
}
