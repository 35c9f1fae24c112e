//! One test binary for the simulator, so it links once.

mod closed_form;
mod errors;
mod fixtures;
mod properties;
mod reference_table;
mod target;

/// How far a concentration may be from its oracle: `relative` of the expected value, or
/// `absolute_ng_ml` where that is larger (near zero). Each oracle states its own (docs/pk.md,
/// "Tests and oracles").
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    pub relative: f64,
    pub absolute_ng_ml: f64,
}

impl Tolerance {
    pub fn holds(self, got: f64, expected: f64) -> bool {
        (got - expected).abs() <= (self.relative * expected.abs()).max(self.absolute_ng_ml)
    }
}

/// Within 0.5 % relative, or 0.1 ng/mL absolute near zero: the agreement asked of a peer
/// program or of a published table (its own rounding is allowed for separately).
pub fn within_tolerance(got: f64, expected: f64) -> bool {
    Tolerance {
        relative: 0.005,
        absolute_ng_ml: 0.1,
    }
    .holds(got, expected)
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
