//! The patient portal's and the questionnaires' words: instrument and
//! scale names, score lines with their band and missing-answer rule, the
//! safety status, appointment statuses, safety alert states. The numbers and
//! bands are respite-clinical's; this file only says them.

use respite_clinical::instruments::{Instrument, Licence};
use respite_store::{SafetyAlertRecord, ScoreRecord};

/// How long a questionnaire is, or how far the patient got: "1 question",
/// "10 questions", "5 of 10 answered — continue where you left off".
pub fn questionnaire_progress(answered: usize, total: usize) -> String {
    match (answered, total) {
        (0, 1) => "1 question".to_owned(),
        (0, total) => format!("{total} questions"),
        (answered, total) => {
            format!("{answered} of {total} answered — continue where you left off")
        }
    }
}

/// An instrument's name, e.g. "Patient Health Questionnaire-9 (PHQ-9)".
pub fn instrument_name(id: &str) -> String {
    match Instrument::from_id(id) {
        Ok(instrument) => instrument.definition().name.to_owned(),
        Err(_) => "A questionnaire no longer offered".to_owned(),
    }
}

/// The licence line an instrument shows under its questions.
pub fn licence(id: &str) -> String {
    match Instrument::from_id(id).map(|i| i.definition().licence) {
        Ok(Licence::Free) => String::new(),
        Ok(Licence::Licensed { holder }) => format!("Used under licence from {holder}."),
        Err(_) => String::new(),
    }
}

/// A score in words: "Total 12 of 27: moderate", with the missing-answer
/// rule ("prorated: item 4 not answered") or why there is no score.
pub fn score_line(score: &ScoreRecord) -> String {
    let definition = Instrument::from_id(&score.instrument)
        .ok()
        .map(|i| i.definition());
    let scale = definition.and_then(|d| d.scale(&score.scale));
    let name = scale.map_or_else(|| score.scale.clone(), |s| s.name.to_owned());
    let Some(value) = score.value else {
        return format!(
            "{name}: no score — {} not answered, and the instrument's rule does not allow a score without {}",
            items(&score.missing_items),
            if score.missing_items.contains(',') { "them" } else { "it" }
        );
    };
    let mut line = match scale {
        Some(s) => format!("{name}: {} of {}", number(value), number(s.highest)),
        None => format!("{name}: {}", number(value)),
    };
    if let Some(band) = scale.and_then(|s| {
        score
            .band
            .as_deref()
            .and_then(|id| s.bands.iter().find(|b| b.id == id))
    }) {
        line.push_str(&format!(" — {}", band.label));
    }
    if score.prorated {
        line.push_str(&format!(
            " (prorated: {} not answered)",
            items(&score.missing_items)
        ));
    }
    line
}

fn items(list: &str) -> String {
    let items: Vec<&str> = list.split(',').filter(|s| !s.is_empty()).collect();
    match items.as_slice() {
        [] => "no item".to_owned(),
        [one] => format!("item {one}"),
        many => format!("items {}", many.join(", ")),
    }
}

/// A score as people write it: whole numbers without decimals, others to
/// one decimal.
pub fn number(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{}", value.round() as i64)
    } else {
        format!("{value:.1}")
    }
}

/// PHQ-9 item 9 in a submitted questionnaire, in words: an answer of 1 or
/// more, 0, or unanswered ("safety status unknown", never zero).
pub fn safety_status(item9: Option<i32>) -> &'static str {
    match item9 {
        None => "Safety status unknown: the question about thoughts of self-harm was not answered",
        Some(0) => "No thoughts of self-harm reported",
        Some(_) => "Thoughts of self-harm reported: a clinician has been alerted",
    }
}

/// A consultation's status for the patient.
pub fn appointment_status(code: &str) -> &'static str {
    match code {
        "booked" => "Booked",
        "held" => "Took place",
        "no-show" => "Missed",
        "cancelled" => "Cancelled",
        _ => "Status not known",
    }
}

/// Where a questionnaire came from.
pub fn source(code: &str) -> &'static str {
    match code {
        "paper" => "Paper form, entered by staff",
        _ => "Answered in the portal",
    }
}

/// An alert's state in words.
pub fn alert_state(alert: &SafetyAlertRecord) -> String {
    match (&alert.acknowledged_at, &alert.escalated_at) {
        (Some(_), _) => format!(
            "Acknowledged by {}",
            alert.acknowledged_by.as_deref().unwrap_or("a clinician")
        ),
        (None, Some(_)) => "Open — escalated to the on-call contact".to_owned(),
        (None, None) => "Open — waiting for a clinician".to_owned(),
    }
}

/// The PHQ-9 item 9 answer in the instrument's own words.
pub fn item9_answer(answer: i32) -> String {
    let phq9 = Instrument::Phq9.definition();
    phq9.item("9")
        .and_then(|item| match item.answers {
            respite_clinical::instruments::AnswerScale::Choices(choices) => choices
                .iter()
                .find(|c| c.value == answer)
                .map(|c| c.label.to_owned()),
            respite_clinical::instruments::AnswerScale::Range { .. } => None,
        })
        .unwrap_or_else(|| format!("answer {answer}"))
}

/// A portal invitation in words, e.g. "2026-11-27 09:30, by e-mail: sent;
/// the patient signed in with it".
pub fn invitation(when: &str, channel: &str, sent: bool, used: bool) -> String {
    let by = match channel {
        "sms" => "by text",
        _ => "by e-mail",
    };
    let state = match (sent, used) {
        (_, true) => "the patient signed in with it",
        (true, false) => "sent, not used yet",
        (false, false) => "waiting to be sent",
    };
    format!("{when}, {by}: {state}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_questionnaires_length_and_progress_read_as_people_say_them() {
        let check = |answered, total, expected: &str| {
            assert_eq!(questionnaire_progress(answered, total), expected);
        };
        check(0, 1, "1 question");
        check(0, 10, "10 questions");
        check(5, 10, "5 of 10 answered — continue where you left off");
    }
}
