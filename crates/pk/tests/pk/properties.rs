//! Random plans: the simulator never panics, concentrations are finite and non-negative, no drug
//! gives no concentration, and the model is linear (the sum of two plans gives the sum of their
//! concentrations), which any exact solution of a linear system must satisfy. Every generated
//! request is a valid plan, so every case must be accepted: a refusal fails the property instead of
//! leaving it nothing to check.

use proptest::prelude::*;
use serde_json::{json, Value};

use respite_pk::bands::{minutes_in_band, BANDS};

fn dose() -> impl Strategy<Value = Value> {
    (
        0.0..400.0f64,
        prop_oneof![Just(0.0), 0.0..200.0f64],
        0.0..300.0f64,
        any::<bool>(),
    )
        .prop_map(|(start, duration, quantity, as_rate)| {
            if as_rate && duration > 0.0 {
                json!({"start_min": start, "duration_min": duration, "rate_mg_per_h": quantity})
            } else {
                json!({"start_min": start, "duration_min": duration, "amount_mg": quantity})
            }
        })
}

fn request() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["domino", "clements250", "hijazi", "kamp"]),
        1.0..400.0f64,
        prop::collection::vec(dose(), 0..6),
        0.0..600.0f64,
        prop::sample::select(vec![0.5, 1.0, 7.3, 10.0, 60.0, 600.0]),
    )
        .prop_map(|(model, weight, doses, until, step)| {
            json!({
                "model": model,
                "patient": {"weight_kg": weight, "age_years": 40, "sex": "female", "height_cm": 165},
                "doses": doses, "until_min": until, "step_s": step
            })
        })
}

fn simulate(input: &Value) -> Result<Value, String> {
    let text = respite_pk::simulate_json(&input.to_string()).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

fn numbers(value: &Value, key: &str) -> Vec<f64> {
    value[key]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

proptest! {
    #[test]
    fn random_plans_give_finite_non_negative_concentrations(input in request()) {
        let output = simulate(&input);
        prop_assert!(output.is_ok(), "{input} refused: {output:?}");
        let output = output.unwrap_or_default();
        let n = numbers(&output, "t_min").len();
        prop_assert!(n >= 1);
        for key in ["plasma_ng_ml", "effect_ng_ml"] {
            let values = numbers(&output, key);
            prop_assert_eq!(values.len(), n);
            prop_assert!(values.iter().all(|c| c.is_finite() && *c >= 0.0), "{key}: {values:?}");
        }
    }

    #[test]
    fn zero_doses_give_zero_concentrations(mut input in request()) {
        if let Some(doses) = input["doses"].as_array_mut() {
            for dose in doses {
                for key in ["amount_mg", "rate_mg_per_h"] {
                    if dose.get(key).is_some() {
                        dose[key] = json!(0.0);
                    }
                }
            }
        }
        // Every generated request is a valid plan (the property above accepts them all), so a
        // refusal here is a failure, not a case to skip: an empty answer would pass `all`.
        let output = simulate(&input);
        prop_assert!(output.is_ok(), "{input} refused: {output:?}");
        let output = output.unwrap_or_default();
        let n = numbers(&output, "t_min").len();
        prop_assert!(n >= 1, "no samples for {input}");
        for key in ["plasma_ng_ml", "effect_ng_ml"] {
            let values = numbers(&output, key);
            prop_assert_eq!(values.len(), n, "{}", key);
            prop_assert!(values.iter().all(|c| *c == 0.0), "{key}: {values:?}");
        }
    }

    #[test]
    fn two_plans_together_give_the_sum_of_each(first in request(), second in request()) {
        let mut both = first.clone();
        let mut other = first.clone();
        other["doses"] = second["doses"].clone();
        if let (Some(doses), Some(more)) = (both["doses"].as_array_mut(), second["doses"].as_array()) {
            doses.extend(more.iter().cloned());
        }
        let (a, b, ab) = (simulate(&first), simulate(&other), simulate(&both));
        prop_assert!(a.is_ok() && b.is_ok() && ab.is_ok());
        let (a, b, ab) = (a.unwrap_or_default(), b.unwrap_or_default(), ab.unwrap_or_default());
        let n = numbers(&ab, "t_min").len();
        prop_assert!(n >= 1);
        for key in ["plasma_ng_ml", "effect_ng_ml"] {
            for output in [&a, &b, &ab] {
                prop_assert_eq!(numbers(output, key).len(), n, "{}", key);
            }
            for ((x, y), z) in numbers(&a, key).iter().zip(numbers(&b, key)).zip(numbers(&ab, key)) {
                prop_assert!((x + y - z).abs() <= 1e-9 * z.abs() + 1e-9, "{key}: {x} + {y} != {z}");
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = respite_pk::simulate_json(&text);
    }

    #[test]
    fn arbitrary_numbers_never_panic(
        weight in any::<f64>(), start in any::<f64>(), duration in any::<f64>(),
        amount in any::<f64>(), until in any::<f64>(), step in any::<f64>(),
    ) {
        // serde_json refuses NaN and infinities, so feed them through the domain constructors too.
        let input = json!({
            "model": "kamp",
            "patient": {"weight_kg": weight, "age_years": 40, "sex": "male", "height_cm": 170},
            "doses": [{"start_min": start, "duration_min": duration, "amount_mg": amount}],
            "until_min": until, "step_s": step
        });
        let _ = respite_pk::simulate_json(&input.to_string());
        let _ = respite_pk::Dose::amount_from_numbers(start, duration, amount);
        let _ = respite_pk::Patient::from_numbers(weight, until, respite_pk::Sex::Female, step);
    }
}

/// Time in band by hand: a straight rise from 0 to 200 ng/mL over 10 min spends 3 min in
/// 100–160 (analgesia) and 5 min in 100–250 (psychotomimetic).
#[test]
fn time_in_band_of_a_ramp_is_computed_by_hand() {
    let t = [0.0, 10.0];
    let c = [0.0, 200.0];
    let minutes: Vec<f64> = BANDS
        .iter()
        .map(|band| minutes_in_band(&t, &c, band))
        .collect();
    assert!((minutes[0] - 3.0).abs() < 1e-12, "{minutes:?}");
    assert!((minutes[1] - 5.0).abs() < 1e-12, "{minutes:?}");
    assert_eq!(minutes[2], 0.0);
    assert_eq!(minutes[3], 0.0);
}

/// Changing t_peak moves the effect-site peak after a bolus to the new time (the definition).
#[test]
fn the_effect_site_peaks_at_the_requested_t_peak() {
    for (model, t_peak) in [("domino", 2.0), ("kamp", 1.0), ("clements250", 3.5)] {
        let output = simulate(&json!({
            "model": model,
            "patient": {"weight_kg": 70, "age_years": 40, "sex": "male", "height_cm": 170},
            "doses": [{"start_min": 0, "duration_min": 0, "amount_mg": 20}],
            "until_min": 10, "step_s": 1, "t_peak_min": t_peak
        }));
        let Ok(output) = output else {
            panic!("{model}: refused: {output:?}");
        };
        let effect = numbers(&output, "effect_ng_ml");
        assert_eq!(effect.len(), 601, "{model}: one sample a second for 10 min");
        let peak = effect
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(k, _)| k as f64 / 60.0)
            .unwrap_or(f64::NAN);
        assert!(
            (peak - t_peak).abs() <= 1.0 / 60.0,
            "{model}: peak at {peak} min, asked {t_peak}"
        );
    }
}
