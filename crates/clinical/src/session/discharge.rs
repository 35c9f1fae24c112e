//! The discharge rule: modified Aldrete ≥ 9, scored by the instrument's own
//! scorer (instruments.md; Aldrete JA. J Clin Anesth 1995;7:89–91), a named
//! responsible adult to accompany the patient, no alarm left
//! unacknowledged; then a clinician signs (dosing.md, "Discharge").

use crate::instruments::{Answers, Instrument};

/// What discharge is decided on.
#[derive(Clone, Debug, Default)]
pub struct DischargeFacts {
    /// The latest modified Aldrete answers recorded in recovery.
    pub latest_aldrete: Option<Answers>,
    /// The escort named at the checklist (and confirmed at discharge).
    pub escort_name: Option<String>,
    pub open_alarms: usize,
}

/// Why a patient may not be discharged yet.
#[derive(Clone, Debug, PartialEq)]
pub enum DischargeRefusal {
    NoAldrete,
    /// The latest score is below 9 (`score`), or not computable (None).
    AldreteBelowNine {
        score: Option<f64>,
    },
    NoEscort,
    OpenAlarms(usize),
}

/// Every reason the patient may not go home now; empty when they may.
pub fn discharge_refusals(facts: &DischargeFacts) -> Vec<DischargeRefusal> {
    let mut refusals = Vec::new();
    match &facts.latest_aldrete {
        None => refusals.push(DischargeRefusal::NoAldrete),
        Some(answers) => {
            let scored = Instrument::ModifiedAldrete.score(answers).ok();
            let ready = scored.as_ref().and_then(|s| s.discharge_ready());
            if ready != Some(true) {
                refusals.push(DischargeRefusal::AldreteBelowNine {
                    score: scored.and_then(|s| s.value("total")),
                });
            }
        }
    }
    let escort_named = facts
        .escort_name
        .as_deref()
        .is_some_and(|name| !name.trim().is_empty());
    if !escort_named {
        refusals.push(DischargeRefusal::NoEscort);
    }
    if facts.open_alarms > 0 {
        refusals.push(DischargeRefusal::OpenAlarms(facts.open_alarms));
    }
    refusals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aldrete(total: i32) -> Answers {
        // Five items 0–2; fill from the first with 2s.
        let items = [
            "activity",
            "respiration",
            "circulation",
            "consciousness",
            "oxygen-saturation",
        ];
        let mut left = total;
        let mut answers = Answers::new();
        for item in items {
            let value = left.min(2);
            answers.insert(item, value);
            left -= value;
        }
        answers
    }

    fn facts(total: i32) -> DischargeFacts {
        DischargeFacts {
            latest_aldrete: Some(aldrete(total)),
            escort_name: Some("Sam Rivera".into()),
            open_alarms: 0,
        }
    }

    #[test]
    fn nine_or_more_with_an_escort_discharges() {
        assert_eq!(discharge_refusals(&facts(9)), vec![]);
        assert_eq!(discharge_refusals(&facts(10)), vec![]);
    }

    #[test]
    fn eight_is_refused_with_its_score() {
        assert_eq!(
            discharge_refusals(&facts(8)),
            vec![DischargeRefusal::AldreteBelowNine { score: Some(8.0) }]
        );
    }

    #[test]
    fn no_score_no_escort_and_open_alarms_are_each_named() {
        let refusals = discharge_refusals(&DischargeFacts {
            latest_aldrete: None,
            escort_name: Some(" ".into()),
            open_alarms: 2,
        });
        assert_eq!(
            refusals,
            vec![
                DischargeRefusal::NoAldrete,
                DischargeRefusal::NoEscort,
                DischargeRefusal::OpenAlarms(2)
            ]
        );
        let mut partial = Answers::new();
        partial.insert("activity", 2);
        let refusals = discharge_refusals(&DischargeFacts {
            latest_aldrete: Some(partial),
            ..facts(9)
        });
        assert_eq!(
            refusals,
            vec![DischargeRefusal::AldreteBelowNine { score: None }]
        );
    }
}
