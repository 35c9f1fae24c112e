//! The infusion session as the nurse documents it (SPEC §1 step 5): its
//! states and the actions each allows, the pre-start checklist, the
//! vital-sign alarms and when the next vitals are due, the infusion as
//! delivered (reconstructed from the timeline as respite-pk doses), and the
//! discharge rule.
//!
//! Sources: shared/clinical/dosing.md ("Monitoring during a session",
//! "Discharge") and instruments.md (modified Aldrete). Pure: no clock, no
//! storage; times come in as arguments.

mod checklist;
mod delivery;
mod discharge;
mod rescue;
mod state;
mod vitals;

pub use checklist::{ChecklistItem, PreStartChecklist};
pub use delivery::{
    delivered, within_order, DeliveredInfusion, DeliveryError, PumpEvent, PumpEventKind,
};
pub use discharge::{discharge_refusals, DischargeFacts, DischargeRefusal};
pub use rescue::{check_rescue_draw, RescueDrug, RescueRefusal, RescueVial};
pub use state::{ActionRefused, SessionAction, SessionState};
pub use vitals::{
    alarms, vitals_due, AlarmDirection, AlarmThresholds, ThresholdError, VitalAlarm, VitalKind,
    VitalSigns, VitalsDue, VITALS_INTERVAL_MINUTES,
};
