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
