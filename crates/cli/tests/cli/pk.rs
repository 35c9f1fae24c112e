//! `respite pk simulate`.

use crate::support::*;

#[test]
fn pk_simulate_reads_the_issue_example_from_stdin() {
    let plan = r#"{"model": "domino", "patient": {"weight_kg": 70, "age_years": 45, "sex": "female", "height_cm": 165},
      "doses": [{"start_min": 0, "duration_min": 1, "amount_mg": 24.5},
                {"start_min": 1, "duration_min": 240, "rate_mg_per_h": 35}],
      "until_min": 300, "step_s": 60}"#;
    let (ok, stdout, stderr) = run(&["pk", "simulate", "--plan", "-"], plan);
    assert!(ok, "{stderr}");
    let output: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(output["model"], "domino");
    assert_eq!(output["t_min"].as_array().unwrap().len(), 301);
    assert_eq!(output["plasma_ng_ml"].as_array().unwrap().len(), 301);
    // shared/clinical/pk-models.md: domino 60 min = 207.7 ng/mL (opentiva,
    // PyTCI and an exact solver agreeing to 4 significant figures).
    let at_60 = output["plasma_ng_ml"][60].as_f64().unwrap();
    assert!((at_60 - 207.7).abs() / 207.7 < 0.005, "{at_60}");
    let (ok, _, stderr) = run(&["pk", "simulate", "--plan", "-"], "{\"model\": \"nope\"}");
    assert!(!ok);
    assert!(!stderr.is_empty());
    let (ok, _, stderr) = run(&["pk", "simulate", "--plan", "/no/such/plan.json"], "");
    assert!(!ok);
    assert!(
        stderr.contains("--plan /no/such/plan.json: cannot read"),
        "{stderr}"
    );
}

#[test]
fn pk_target_proposes_doses_that_pk_simulate_accepts_and_names_a_binding_limit() {
    let request = r#"{"model":"kamp","patient":{"weight_kg":83,"age_years":61,"sex":"male","height_cm":178},
      "target_effect_ng_ml":150,"reach_within_min":5,"hold_until_min":120,"min_rate_change_interval_min":10,
      "limits":{"bolus_mg_per_kg":0.35,"rate_mg_per_kg_per_h":2.0},"step_s":10}"#;
    let (ok, stdout, stderr) = run(&["pk", "target", "--plan", "-"], request);
    assert!(ok, "{stderr}");
    let output: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(output["reached_at_min"].as_f64().unwrap() <= 5.0);
    let effect: Vec<f64> = output["effect_ng_ml"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(effect.iter().all(|&ce| ce <= 1.10 * 150.0));
    assert!(effect[30..].iter().all(|&ce| 0.90 * 150.0 <= ce));
    // The doses go straight back into `pk simulate`, which prints the same curve.
    let plan = serde_json::json!({
        "model": "kamp",
        "doses": output["doses"], "until_min": 120, "step_s": 10,
        "patient": {"weight_kg": 83, "age_years": 61, "sex": "male", "height_cm": 178}});
    let (ok, stdout, stderr) = run(&["pk", "simulate", "--plan", "-"], &plan.to_string());
    assert!(ok, "{stderr}");
    let simulated: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(simulated["effect_ng_ml"], output["effect_ng_ml"]);

    let unreachable = request.replace(
        "\"rate_mg_per_kg_per_h\":2.0",
        "\"rate_mg_per_kg_per_h\":0.1",
    );
    let (ok, _, stderr) = run(&["pk", "target", "--plan", "-"], &unreachable);
    assert!(!ok);
    assert!(
        stderr.contains("limits.rate_mg_per_kg_per_h = 0.1"),
        "{stderr}"
    );
}
