//! Property tests: scores never leave their range; prorating agrees with the
//! full form; arbitrary answers never panic.

use proptest::prelude::*;
use respite_clinical::instruments::{
    AnswerScale, Answers, Completeness, Instrument, ScaleResult, ScoringSettings,
};

fn instrument() -> impl Strategy<Value = Instrument> {
    proptest::sample::select(Instrument::ALL.to_vec())
}

fn scale_values(scale: AnswerScale) -> Vec<i32> {
    match scale {
        AnswerScale::Range { lowest, highest } => (lowest..=highest).collect(),
        AnswerScale::Choices(choices) => choices.iter().map(|c| c.value).collect(),
    }
}

/// A valid answer to each item (by index into its scale), some left blank.
fn valid_answers(instrument: Instrument, picks: &[(bool, usize)]) -> Answers {
    instrument
        .definition()
        .items
        .iter()
        .zip(picks)
        .filter(|(_, (answered, _))| *answered)
        .map(|(item, (_, pick))| {
            let values = scale_values(item.answers);
            (item.id, values[pick % values.len()])
        })
        .collect()
}

proptest! {
    #[test]
    fn a_score_never_leaves_its_range(
        instrument in instrument(),
        picks in proptest::collection::vec((any::<bool>(), any::<usize>()), 21),
        allowed_missing in 0u8..=10,
    ) {
        let answers = valid_answers(instrument, &picks);
        let settings = ScoringSettings { oswestry_maximum_missing_sections: allowed_missing };
        let scored = instrument.score_with(&answers, &settings);
        prop_assert!(scored.is_ok(), "valid answers rejected: {scored:?}");
        if let Ok(scored) = scored {
            for scale in &scored.scales {
                if let ScaleResult::Computed(score) = &scale.result {
                    prop_assert!(
                        scale.scale.lowest <= score.value && score.value <= scale.scale.highest,
                        "{instrument} {}: {} outside {}–{}",
                        scale.scale.id, score.value, scale.scale.lowest, scale.scale.highest
                    );
                    if !scale.scale.bands.is_empty() {
                        prop_assert!(score.band.is_some());
                    }
                }
            }
        }
    }

    #[test]
    fn complete_answers_are_never_prorated(
        instrument in instrument(),
        picks in proptest::collection::vec(any::<usize>(), 21),
    ) {
        let all: Vec<(bool, usize)> = picks.into_iter().map(|p| (true, p)).collect();
        let answers = valid_answers(instrument, &all);
        let scored = instrument.score(&answers);
        prop_assert!(scored.is_ok());
        if let Ok(scored) = scored {
            for scale in &scored.scales {
                let complete = matches!(
                    &scale.result,
                    ScaleResult::Computed(score) if score.completeness == Completeness::Complete
                );
                prop_assert!(complete, "{instrument} {}: {:?}", scale.scale.id, scale.result);
            }
        }
    }

    /// With every answer equal, a prorated score equals the full form's score,
    /// whichever items (within the instrument's rule) are left out.
    #[test]
    fn prorating_agrees_with_the_full_form(
        (instrument, scale) in proptest::sample::select(vec![
            (Instrument::Phq9, "total"),
            (Instrument::OswestryDisabilityIndex, "index"),
            (Instrument::Fiqr, "total"),
            (Instrument::BriefPainInventory, "interference"),
        ]),
        value in 0i32..=3,
        blanks in proptest::collection::vec(any::<bool>(), 21),
    ) {
        let definition = instrument.definition();
        let full: Answers = definition.items.iter().map(|item| (item.id, value)).collect();
        let partial: Answers = definition
            .items
            .iter()
            .zip(&blanks)
            .filter(|(_, blank)| !**blank)
            .map(|(item, _)| (item.id, value))
            .collect();
        let full_value = instrument.score(&full).ok().and_then(|s| s.value(scale));
        prop_assert!(full_value.is_some());
        if let Ok(scored) = instrument.score(&partial) {
            if let Some(prorated) = scored.value(scale) {
                let full_value = full_value.unwrap_or(f64::NAN);
                prop_assert!((prorated - full_value).abs() < 1e-9, "{prorated} vs {full_value}");
            }
        }
    }

    #[test]
    fn arbitrary_answers_never_panic(
        instrument in instrument(),
        raw in proptest::collection::vec(("[0-9A-Za-z-]{0,4}", any::<i32>()), 0..30),
    ) {
        let answers: Answers = raw.into_iter().collect();
        let _ = instrument.score(&answers);
    }

    #[test]
    fn arbitrary_values_on_real_items_are_accepted_exactly_when_on_scale(
        instrument in instrument(),
        index in any::<usize>(),
        value in any::<i32>(),
    ) {
        let items = instrument.definition().items;
        let item = &items[index % items.len()];
        let result = instrument.score(&Answers::new().with(item.id, value));
        prop_assert_eq!(result.is_ok(), item.answers.allows(value));
    }
}
