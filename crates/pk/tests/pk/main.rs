//! One test binary for the simulator, so it links once.

mod closed_form;
mod errors;
mod fixtures;
mod properties;
mod reference_table;

/// Within 0.5 % relative, or 0.1 ng/mL absolute near zero (the agreement docs/pk.md,
/// "Tests and oracles", asks of every fixture).
pub fn within_tolerance(got: f64, expected: f64) -> bool {
    (got - expected).abs() <= (0.005 * expected.abs()).max(0.1)
}

pub fn run(input: &serde_json::Value) -> serde_json::Value {
    match respite_pk::simulate_json(&input.to_string()) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(value) => value,
            Err(error) => panic!("simulate_json wrote invalid JSON: {error}"),
        },
        Err(error) => panic!("simulate_json refused {input}: {error}"),
    }
}

pub fn series(output: &serde_json::Value, key: &str) -> Vec<f64> {
    output[key]
        .as_array()
        .map(|values| values.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default()
}
