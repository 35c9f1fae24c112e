//! Questionnaires as the portal and the chart keep them: answers (FHIR
//! QuestionnaireResponse's shape, item linkId + answer) scored by
//! `respite-clinical` only, turned into score observations to store, and the
//! PHQ-9 item 9 safety rule. No score, band, prorating or flag is computed
//! here: this module only carries respite-clinical's verdicts to storage.

use respite_clinical::instruments::{
    AnswerError, Answers, ClinicalFlag, Instrument, InstrumentDefinition, Scored,
};
use respite_store::{AnswerRecord, NewScore};

/// The instruments a patient can answer in the portal or staff enter from
/// paper: those whose wording ships with Respite (`Licence::Free`); a
/// licensed instrument needs the clinic's licensed wording, not loaded yet.
pub fn offered() -> Vec<Instrument> {
    Instrument::ALL
        .into_iter()
        .filter(|i| i.definition().items.iter().all(|item| item.text.is_some()))
        .filter(|i| *i != Instrument::ModifiedAldrete)
        .collect()
}

/// The instrument of a stored id; `None` for an id this build does not know.
pub fn instrument(id: &str) -> Option<Instrument> {
    Instrument::from_id(id).ok()
}

/// respite-clinical's answers from stored ones.
pub fn answers(records: &[AnswerRecord]) -> Answers {
    let mut answers = Answers::new();
    for record in records {
        answers.insert(record.link_id.clone(), record.value);
    }
    answers
}

/// The first item without an answer, in the form's order.
pub fn first_unanswered(
    definition: &'static InstrumentDefinition,
    records: &[AnswerRecord],
) -> Option<usize> {
    definition
        .items
        .iter()
        .position(|item| !records.iter().any(|r| r.link_id == item.id))
}

/// Scores the answers (respite-clinical) and the observations to store.
pub fn score(
    instrument: Instrument,
    records: &[AnswerRecord],
) -> Result<(Scored, Vec<NewScore>), AnswerError> {
    let scored = instrument.score(&answers(records))?;
    let scores = respite_store::new_scores(&scored);
    Ok((scored, scores))
}

/// The answer to PHQ-9 item 9 when it is 1 or more (respite-clinical's
/// `ClinicalFlag::SelfHarmThoughts`): the patient sees crisis resources at
/// once and a clinician must acknowledge an alert (SPEC §1 step 6;
/// shared/clinical/instruments.md, PHQ-9).
pub fn self_harm_answer(instrument: Instrument, records: &[AnswerRecord]) -> Option<i32> {
    if instrument != Instrument::Phq9 {
        return None;
    }
    // Only the item's own answer decides; scoring the partial answers would
    // fail on nothing but an invalid value, which was refused on saving.
    let scored = instrument.score(&answers(records)).ok()?;
    scored.flags.iter().find_map(|flag| match flag {
        ClinicalFlag::SelfHarmThoughts { answer } => Some(*answer),
        ClinicalFlag::SafetyQuestionUnanswered => None,
    })
}

/// Whether the safety question was left unanswered in a scored response:
/// shown as "safety status unknown", never as zero.
pub fn safety_unknown(scored: &Scored) -> bool {
    scored
        .flags
        .iter()
        .any(|flag| matches!(flag, ClinicalFlag::SafetyQuestionUnanswered))
}
