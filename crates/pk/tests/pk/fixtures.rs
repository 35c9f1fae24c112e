//! The library, through `simulate_json`, against every committed oracle fixture: opentiva 1.1.2
//! plasma (oracles/pk/opentiva_fixtures.py) and an independent scipy matrix-exponential solver for
//! the effect site, instantaneous boluses, off-grid doses and allometric Kamp
//! (oracles/pk/expm_fixtures.py). Each file is held to what its oracle can promise (docs/pk.md,
//! "Tests and oracles"): 1e-6 relative, far above the fixtures' 9 significant figures and far
//! below any mistake in a model's numbers.

use std::path::PathBuf;

use serde_json::Value;

use crate::{run, series, Tolerance};

fn fixture(name: &str) -> Value {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "oracles",
        "pk",
        "fixtures",
        name,
    ]
    .iter()
    .collect();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => panic!("cannot read {}: {error}", path.display()),
    };
    match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(error) => panic!("{} is not JSON: {error}", path.display()),
    }
}

/// The matrix-exponential oracle is exact up to its 9 significant figures (plans.py `rounded`,
/// at most 5e-9 relative) and the solver's own rounding, so 1e-6 relative catches any real
/// difference; the absolute floor only absorbs floating-point dust where both sides are zero (at
/// t = 0, or the effect site at the instant of a bolus): under 1e-6 of the smallest non-zero
/// value in the file (0.0028 ng/mL).
const EXACT_ORACLE: Tolerance = Tolerance {
    relative: 1e-6,
    absolute_ng_ml: 1e-9,
};

/// opentiva 1.1.2's plasma. Its approximation is in the effect site (it drops the rising-ramp
/// term and lags by about 1.2 %, pk-models.md), which is why only plasma is compared; its plasma
/// is the exact sum of exponentials and agrees with ours to the fixtures' 9 significant figures
/// (every point passes at 6e-9), so it is held to the exact oracle's 1e-6: at 0.5 % a mistyped
/// volume (Kamp's V1 25 → 25.1 L, 0.4 %) would pass.
const OPENTIVA: Tolerance = EXACT_ORACLE;

/// Compares every case of a fixture file; returns how many points were compared.
fn check_fixture(name: &str, tolerance: Tolerance) -> usize {
    let fixture = fixture(name);
    let keys: Vec<&str> = fixture["compare"]
        .as_array()
        .map(|keys| keys.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let cases = fixture["cases"].as_array().cloned().unwrap_or_default();
    assert!(!cases.is_empty(), "{name} has no cases");
    let mut compared = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let case_name = case["name"].as_str().unwrap_or("?");
        let output = run(&case["input"]);
        let step_s = case["input"]["step_s"].as_f64().unwrap_or(f64::NAN);
        let ours_t = series(&output, "t_min");
        for key in &keys {
            let ours = series(&output, key);
            let expected = series(case, key);
            let times = series(case, "t_min");
            assert_eq!(
                times.len(),
                expected.len(),
                "{case_name}: malformed fixture"
            );
            for (t, want) in times.iter().zip(&expected) {
                let index = (t * 60.0 / step_s).round() as usize;
                let (Some(got), Some(our_t)) = (ours.get(index), ours_t.get(index)) else {
                    failures.push(format!("{case_name}: no sample at {t} min"));
                    continue;
                };
                assert!(
                    (our_t - t).abs() < 1e-9,
                    "{case_name}: time grid differs at {t}"
                );
                compared += 1;
                if !tolerance.holds(*got, *want) {
                    failures.push(format!(
                        "{case_name} {key} at {t} min: got {got}, oracle {want}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} points outside {tolerance:?} in {name}, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    compared
}

#[test]
fn plasma_matches_opentiva_for_domino_clements250_and_hijazi() {
    let compared = check_fixture("opentiva.json", OPENTIVA);
    assert!(compared > 5000, "only {compared} points compared");
}

/// Kamp against a second implementation: opentiva's Klamp scales clearances by W/70 where the
/// paper (and we) scale them by (W/70)^0.75, so the two models are the same at 70 kg only, and
/// every case there must be at 70 kg. Away from 70 kg, Kamp rests on the paper's equations: the
/// scipy oracle and `closed_form::kamp_bolus_*` (docs/pk.md).
#[test]
fn kamp_plasma_at_70_kg_matches_opentiva_klamp() {
    let fixture = fixture("opentiva_kamp_70kg.json");
    for case in fixture["cases"].as_array().cloned().unwrap_or_default() {
        assert_eq!(case["input"]["model"], "kamp", "{}", case["name"]);
        assert_eq!(
            case["input"]["patient"]["weight_kg"], 70,
            "{}",
            case["name"]
        );
    }
    let compared = check_fixture("opentiva_kamp_70kg.json", OPENTIVA);
    assert!(compared > 1500, "only {compared} points compared");
}

#[test]
fn plasma_and_effect_site_match_the_matrix_exponential_oracle() {
    let compared = check_fixture("expm.json", EXACT_ORACLE);
    assert!(compared > 5000, "only {compared} points compared");
}

/// The oracle's ke0 (brentq on the matrix exponential) is the one our t_peak rule finds, for every
/// model and weight in the fixture (Kamp's changes with weight under allometric scaling).
#[test]
fn ke0_matches_the_oracle_for_every_case() {
    for case in fixture("expm.json")["cases"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let output = run(&case["input"]);
        let ours = output["ke0_per_min"].as_f64().unwrap_or(f64::NAN);
        let theirs = case["ke0_per_min"].as_f64().unwrap_or(f64::NAN);
        assert!(
            (ours - theirs).abs() <= 1e-6 * theirs,
            "{}: ke0 {ours} vs oracle {theirs}",
            case["name"]
        );
    }
}
