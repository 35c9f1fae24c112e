//! The session's states and which actions each allows: checklist → running
//! ↔ paused → stopped → recovery → discharged → signed off (dosing.md,
//! "Monitoring during a session" and "Discharge": a session is monitored
//! from start to discharge; discharge is signed by a clinician).

use std::fmt;

/// Where a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// Before the start: the pre-start checklist is being completed.
    Checklist,
    Running,
    Paused,
    /// The infusion is over; the patient is still in the chair.
    Stopped,
    /// Observed until fit for discharge.
    Recovery,
    /// Gone home with the named escort; awaiting the clinician's sign-off.
    Discharged,
    /// Closed: nothing more is recorded.
    SignedOff,
}

/// Something recorded on a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionAction {
    /// Record or change the pre-start checklist.
    Checklist,
    Start,
    Pause,
    Resume,
    ChangeRate,
    Bolus,
    Stop,
    Vitals,
    AcknowledgeAlarm,
    AdverseEvent,
    RescueDrug,
    BeginRecovery,
    Aldrete,
    Discharge,
    SignOff,
    /// Draw the drug from the register for this session.
    Draw,
    /// A free-text nursing note.
    Note,
}

/// An action the session's state does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{action} is not allowed while the session is {state}")]
pub struct ActionRefused {
    pub action: SessionAction,
    pub state: SessionState,
}

impl SessionState {
    pub const ALL: [SessionState; 7] = [
        SessionState::Checklist,
        SessionState::Running,
        SessionState::Paused,
        SessionState::Stopped,
        SessionState::Recovery,
        SessionState::Discharged,
        SessionState::SignedOff,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SessionState::Checklist => "checklist",
            SessionState::Running => "running",
            SessionState::Paused => "paused",
            SessionState::Stopped => "stopped",
            SessionState::Recovery => "recovery",
            SessionState::Discharged => "discharged",
            SessionState::SignedOff => "signed-off",
        }
    }

    pub fn from_code(code: &str) -> Option<SessionState> {
        SessionState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The patient is monitored (vitals every 15 min, dosing.md) from the
    /// start until discharge.
    pub fn is_monitored(self) -> bool {
        matches!(
            self,
            SessionState::Running
                | SessionState::Paused
                | SessionState::Stopped
                | SessionState::Recovery
        )
    }

    /// The drug is running into the patient.
    pub fn is_infusing(self) -> bool {
        self == SessionState::Running
    }

    /// Whether `action` may be recorded in this state.
    pub fn allows(self, action: SessionAction) -> bool {
        use SessionAction as A;
        use SessionState as S;
        match action {
            A::Checklist => self == S::Checklist,
            A::Draw => matches!(self, S::Checklist | S::Running | S::Paused),
            A::Start => self == S::Checklist,
            A::Pause | A::ChangeRate | A::Bolus => self == S::Running,
            A::Resume => self == S::Paused,
            A::Stop => matches!(self, S::Running | S::Paused),
            // Baseline vitals are taken before the start (checklist).
            A::Vitals => matches!(
                self,
                S::Checklist | S::Running | S::Paused | S::Stopped | S::Recovery
            ),
            A::AcknowledgeAlarm | A::Note => self != S::SignedOff,
            A::AdverseEvent | A::RescueDrug => self.is_monitored(),
            A::BeginRecovery => self == S::Stopped,
            A::Aldrete => matches!(self, S::Stopped | S::Recovery),
            A::Discharge => self == S::Recovery,
            A::SignOff => self == S::Discharged,
        }
    }

    /// The state after `action`, or why it is refused.
    pub fn after(self, action: SessionAction) -> Result<SessionState, ActionRefused> {
        if !self.allows(action) {
            return Err(ActionRefused {
                action,
                state: self,
            });
        }
        Ok(match action {
            SessionAction::Start | SessionAction::Resume => SessionState::Running,
            SessionAction::Pause => SessionState::Paused,
            SessionAction::Stop => SessionState::Stopped,
            SessionAction::BeginRecovery => SessionState::Recovery,
            SessionAction::Discharge => SessionState::Discharged,
            SessionAction::SignOff => SessionState::SignedOff,
            _ => self,
        })
    }
}

impl SessionAction {
    pub fn code(self) -> &'static str {
        match self {
            SessionAction::Checklist => "checklist",
            SessionAction::Start => "start",
            SessionAction::Pause => "pause",
            SessionAction::Resume => "resume",
            SessionAction::ChangeRate => "rate-change",
            SessionAction::Bolus => "bolus",
            SessionAction::Stop => "stop",
            SessionAction::Vitals => "vitals",
            SessionAction::AcknowledgeAlarm => "alarm-acknowledged",
            SessionAction::AdverseEvent => "adverse-event",
            SessionAction::RescueDrug => "rescue-drug",
            SessionAction::BeginRecovery => "recovery",
            SessionAction::Aldrete => "aldrete",
            SessionAction::Discharge => "discharge",
            SessionAction::SignOff => "sign-off",
            SessionAction::Draw => "draw",
            SessionAction::Note => "note",
        }
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for SessionAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionAction as A;
    use SessionState as S;

    #[test]
    fn the_happy_path_walks_every_state_in_order() {
        let mut state = S::Checklist;
        for (action, expected) in [
            (A::Start, S::Running),
            (A::Pause, S::Paused),
            (A::Resume, S::Running),
            (A::ChangeRate, S::Running),
            (A::Stop, S::Stopped),
            (A::BeginRecovery, S::Recovery),
            (A::Aldrete, S::Recovery),
            (A::Discharge, S::Discharged),
            (A::SignOff, S::SignedOff),
        ] {
            state = state.after(action).unwrap();
            assert_eq!(state, expected, "after {action}");
        }
    }

    #[test]
    fn out_of_order_actions_are_refused() {
        let check = |state: S, action: A| {
            assert_eq!(
                state.after(action),
                Err(ActionRefused { action, state }),
                "{action} in {state}"
            );
        };
        check(S::Checklist, A::Stop);
        check(S::Checklist, A::ChangeRate);
        check(S::Running, A::Start);
        check(S::Running, A::Discharge);
        check(S::Paused, A::ChangeRate);
        check(S::Stopped, A::Resume);
        check(S::Stopped, A::Discharge);
        check(S::Recovery, A::SignOff);
        check(S::Discharged, A::Vitals);
        check(S::SignedOff, A::Note);
        check(S::SignedOff, A::AcknowledgeAlarm);
    }

    #[test]
    fn codes_round_trip() {
        for state in S::ALL {
            assert_eq!(S::from_code(state.code()), Some(state));
        }
        assert_eq!(S::from_code("finished"), None);
    }
}
