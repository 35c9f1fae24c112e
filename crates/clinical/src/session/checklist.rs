//! The pre-start checklist: what must be true before the infusion starts
//! (SPEC §1 step 5; dosing.md: a second-person check of the order, baseline
//! monitoring, and a responsible adult to accompany the patient home).

/// One item of the checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChecklistItem {
    /// Written consent to this session is on file.
    Consent,
    /// A named responsible adult will take the patient home (dosing.md,
    /// Discharge: "a responsible adult to accompany").
    EscortConfirmed,
    /// IV access in place and patent.
    IvAccess,
    /// Baseline blood pressure, heart rate, SpO₂ and respiratory rate
    /// (dosing.md, Monitoring: the same standards as other anaesthetic
    /// drugs, vital-sign monitoring).
    BaselineVitals,
    /// Baseline pain on the 0–10 numeric rating scale.
    BaselinePain,
    /// The order's second-person check is recorded.
    SecondCheck,
}

impl ChecklistItem {
    pub const ALL: [ChecklistItem; 6] = [
        ChecklistItem::Consent,
        ChecklistItem::EscortConfirmed,
        ChecklistItem::IvAccess,
        ChecklistItem::BaselineVitals,
        ChecklistItem::BaselinePain,
        ChecklistItem::SecondCheck,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ChecklistItem::Consent => "consent",
            ChecklistItem::EscortConfirmed => "escort",
            ChecklistItem::IvAccess => "iv-access",
            ChecklistItem::BaselineVitals => "baseline-vitals",
            ChecklistItem::BaselinePain => "baseline-pain",
            ChecklistItem::SecondCheck => "second-check",
        }
    }
}

/// What is known before the start.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PreStartChecklist {
    pub consent: bool,
    /// The escort's name; confirmed only when named and confirmed.
    pub escort_name: Option<String>,
    pub escort_confirmed: bool,
    pub iv_access: bool,
    /// A complete set of baseline vitals was recorded before the start.
    pub baseline_vitals: bool,
    /// A pain NRS was recorded with the baseline vitals.
    pub baseline_pain: bool,
    pub second_check: bool,
}

impl PreStartChecklist {
    /// What is still missing, in the checklist's order; empty when the
    /// session may start.
    pub fn missing(&self) -> Vec<ChecklistItem> {
        let escort_named = self
            .escort_name
            .as_deref()
            .is_some_and(|name| !name.trim().is_empty());
        ChecklistItem::ALL
            .into_iter()
            .filter(|item| match item {
                ChecklistItem::Consent => !self.consent,
                ChecklistItem::EscortConfirmed => !(escort_named && self.escort_confirmed),
                ChecklistItem::IvAccess => !self.iv_access,
                ChecklistItem::BaselineVitals => !self.baseline_vitals,
                ChecklistItem::BaselinePain => !self.baseline_pain,
                ChecklistItem::SecondCheck => !self.second_check,
            })
            .collect()
    }

    pub fn is_complete(&self) -> bool {
        self.missing().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> PreStartChecklist {
        PreStartChecklist {
            consent: true,
            escort_name: Some("Sam Rivera".into()),
            escort_confirmed: true,
            iv_access: true,
            baseline_vitals: true,
            baseline_pain: true,
            second_check: true,
        }
    }

    #[test]
    fn a_complete_checklist_misses_nothing() {
        assert!(complete().is_complete());
    }

    #[test]
    fn each_missing_item_is_named() {
        let check = |list: PreStartChecklist, expected: &[ChecklistItem]| {
            assert_eq!(list.missing(), expected);
        };
        check(PreStartChecklist::default(), &ChecklistItem::ALL);
        check(
            PreStartChecklist {
                consent: false,
                ..complete()
            },
            &[ChecklistItem::Consent],
        );
        // Confirmed but not named is not an escort.
        check(
            PreStartChecklist {
                escort_name: Some("  ".into()),
                ..complete()
            },
            &[ChecklistItem::EscortConfirmed],
        );
        check(
            PreStartChecklist {
                second_check: false,
                baseline_pain: false,
                ..complete()
            },
            &[ChecklistItem::BaselinePain, ChecklistItem::SecondCheck],
        );
    }
}
