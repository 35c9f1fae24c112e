//! `respite instruments` and `respite instruments score`: the published scoring rules and
//! examples of shared/clinical/instruments.md (and the instruments' own manuals it cites), as a
//! user runs the command. Every expected number is worked out by hand from the published rule,
//! never pasted from the program's output.

use serde_json::{json, Value};

use crate::support::*;

/// Scores `answers` with `instrument`; panics with stderr when the command fails.
fn score(instrument: &str, answers: Value) -> Value {
    let (ok, stdout, stderr) = run(
        &["instruments", "score", "--instrument", instrument],
        &json!({ "answers": answers }).to_string(),
    );
    assert!(ok, "{instrument} {answers}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// The command refuses the input; returns its message.
fn refused(instrument: &str, input: &str) -> String {
    let (ok, stdout, stderr) = run(&["instruments", "score", "--instrument", instrument], input);
    assert!(!ok, "{instrument} {input} was accepted: {stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    stderr
}

fn close(got: &Value, want: f64) -> bool {
    got.as_f64()
        .is_some_and(|got| (got - want).abs() <= 1e-9 * want.abs().max(1.0))
}

#[test]
fn instruments_lists_every_instrument_with_items_codes_answers_and_licence() {
    let (ok, stdout, stderr) = run(&["instruments"], "");
    assert!(ok, "{stderr}");
    let list: Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["nrs", "peg", "bpi", "phq9", "gad7", "odi", "hit6", "fiqr", "aldrete"]
    );
    let find = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()
            .clone()
    };
    // PHQ-9 (instruments.md): panel 44249-1, total 44261-6, item 9 44260-8; free to use.
    let phq9 = find("phq9");
    assert_eq!(phq9["loinc"]["code"], "44249-1");
    assert_eq!(phq9["scales"][0]["loinc"]["code"], "44261-6");
    assert_eq!(phq9["items"][8]["id"], "9");
    assert_eq!(phq9["items"][8]["loinc"]["code"], "44260-8");
    assert_eq!(
        phq9["items"][9]["scored"], false,
        "item 10 is recorded, not scored"
    );
    assert_eq!(phq9["items"][0]["answers"][3]["label"], "Nearly every day");
    assert_eq!(phq9["licence"]["free"], true);
    // NRS: LOINC 72514-3.
    assert_eq!(find("nrs")["items"][0]["loinc"]["code"], "72514-3");
    // BPI interference score: LOINC 77565-0; BPI, ODI, HIT-6 and FIQR are licensed.
    assert_eq!(find("bpi")["scales"][1]["loinc"]["code"], "77565-0");
    for id in ["bpi", "odi", "hit6", "fiqr"] {
        assert_eq!(find(id)["licence"]["free"], false, "{id}");
    }
    // HIT-6 (Kosinski 2003): never / rarely / sometimes / very often / always = 6/8/10/11/13.
    let options = &find("hit6")["items"][0]["answers"];
    let pairs: Vec<(i64, String)> = options
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["value"].as_i64().unwrap(),
                o["label"].as_str().unwrap().to_lowercase(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            (6, "never".to_owned()),
            (8, "rarely".to_owned()),
            (10, "sometimes".to_owned()),
            (11, "very often".to_owned()),
            (13, "always".to_owned())
        ]
    );
    // ODI: 10 sections in order; Aldrete: its five criteria in order.
    assert_eq!(find("odi")["items"].as_array().unwrap().len(), 10);
    let aldrete = find("aldrete");
    let aldrete: Vec<&str> = aldrete["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        aldrete,
        [
            "activity",
            "respiration",
            "circulation",
            "consciousness",
            "oxygen-saturation"
        ]
    );
}

#[test]
fn phq9_totals_fall_in_the_published_bands_and_item_9_raises_its_flag() {
    // Kroenke 2001 (instruments.md): 0–4 none–minimal, 5–9 mild, 10–14 moderate,
    // 15–19 moderately severe, 20–27 severe.
    for (answers, total, band) in [
        (json!([1, 1, 1, 1, 0, 0, 0, 0, 0]), 4.0, "None–minimal"),
        (json!([1, 1, 1, 1, 1, 0, 0, 0, 0]), 5.0, "Mild"),
        (json!([2, 2, 2, 2, 2, 0, 0, 0, 0]), 10.0, "Moderate"),
        (
            json!([3, 3, 3, 3, 3, 0, 0, 0, 0]),
            15.0,
            "Moderately severe",
        ),
        (json!([3, 3, 3, 3, 3, 3, 2, 0, 0]), 20.0, "Severe"),
        (json!([3, 3, 3, 3, 3, 3, 3, 3, 3]), 27.0, "Severe"),
    ] {
        let out = score("phq9", answers.clone());
        assert!(close(&out["score"], total), "{answers}: {out}");
        assert_eq!(out["band"], band, "{answers}");
        // Item 9 ≥ 1 raises the safety flag (instruments.md).
        let flags = if answers[8].as_i64().unwrap() >= 1 {
            json!(["item9"])
        } else {
            json!([])
        };
        assert_eq!(out["flags"], flags, "{answers}");
        assert_eq!(out["prorated"], false);
    }
    // Item 9 = 1 with a total of 1: the flag whatever the total (clinic safety policy).
    let out = score("phq9", json!([0, 0, 0, 0, 0, 0, 0, 0, 1]));
    assert!(close(&out["score"], 1.0));
    assert_eq!(out["band"], "None–minimal");
    assert_eq!(out["flags"], json!(["item9"]));
    // Item 10 (difficulty) may follow; it is recorded, never added.
    let out = score("phq9", json!([1, 1, 1, 1, 1, 1, 1, 1, 0, 3]));
    assert!(close(&out["score"], 8.0), "{out}");
}

#[test]
fn phq9_missing_answers_are_prorated_rounded_or_not_computable_and_item_9_unknown() {
    // 1–2 missing: mean of the answered × 9, rounded to an integer before banding
    // (instruments.md). Items 1–7 = 3,3,3,2,0,0,0 (sum 11), 8 and 9 missing:
    // 11 × 9/7 = 14.14 → 14 → moderate.
    let out = score("phq9", json!([3, 3, 3, 2, 0, 0, 0, null, null]));
    assert!(close(&out["score"], 14.0), "{out}");
    assert_eq!(out["band"], "Moderate");
    assert_eq!(out["prorated"], true);
    assert_eq!(out["missing_items"], json!(["8", "9"]));
    // A missing item 9 is "safety status unknown", never zero.
    assert_eq!(out["flags"], json!(["item9_unanswered"]));
    // 3 missing: not computable, with the reason.
    let out = score("phq9", json!([3, 3, 3, 2, 0, 0, null, null, null]));
    assert_eq!(out["score"], Value::Null);
    assert_eq!(out["band"], Value::Null);
    let reason = out["reason"].as_str().unwrap();
    assert!(reason.contains("missing 7, 8, 9"), "{reason}");
}

#[test]
fn gad7_bands() {
    // Spitzer 2006 (instruments.md): 0–4 minimal, 5–9 mild, 10–14 moderate, 15–21 severe.
    for (answers, total, band) in [
        (json!([1, 1, 1, 1, 0, 0, 0]), 4.0, "Minimal"),
        (json!([3, 3, 3, 0, 0, 0, 0]), 9.0, "Mild"),
        (json!([3, 3, 3, 1, 0, 0, 0]), 10.0, "Moderate"),
        (json!([3, 3, 3, 3, 3, 0, 0]), 15.0, "Severe"),
    ] {
        let out = score("gad7", answers.clone());
        assert!(close(&out["score"], total), "{answers}: {out}");
        assert_eq!(out["band"], band, "{answers}");
    }
}

#[test]
fn odi_prorates_a_missing_section_as_in_the_worked_example() {
    // instruments.md (Fairbank & Pynsent 2000): one section missing, sum 16 →
    // 16 / 45 × 100 = 35.555…% → moderate disability (21–40).
    let out = score("odi", json!([2, 2, 2, 2, 2, 2, 2, 2, 0, null]));
    assert!(close(&out["score"], 16.0 / 45.0 * 100.0), "{out}");
    assert_eq!(out["band"], "Moderate disability");
    assert_eq!(out["prorated"], true);
    assert_eq!(out["missing_items"], json!(["10"]));
    // Complete: sum 50 of 50 → 100 %, bed-bound.
    let out = score("odi", json!([5; 10].to_vec()));
    assert!(close(&out["score"], 100.0));
    assert_eq!(out["prorated"], false);
    // Three sections missing: beyond the two allowed (docs), not computable.
    let out = score("odi", json!([1, 1, 1, 1, 1, 1, 1, null, null, null]));
    assert_eq!(out["score"], Value::Null);
    assert!(
        out["reason"].as_str().unwrap().contains("8, 9, 10"),
        "{out}"
    );
}

#[test]
fn hit6_scores_the_response_words() {
    // Kosinski 2003 / NINDS CDE (instruments.md): 6/8/10/11/13 per answer; ≤ 49 little or
    // no impact, 50–55 some, 56–59 substantial, ≥ 60 severe.
    for (words, total, band) in [
        (["never"; 6], 36.0, "Little or no impact"),
        (
            [
                "never",
                "rarely",
                "sometimes",
                "very often",
                "always",
                "never",
            ],
            54.0,
            "Some impact",
        ),
        (["sometimes"; 6], 60.0, "Severe impact"),
        (["always"; 6], 78.0, "Severe impact"),
    ] {
        let out = score("hit6", json!(words));
        assert!(close(&out["score"], total), "{words:?}: {out}");
        assert_eq!(out["band"], band, "{words:?}");
    }
    // Case and spaces around a word do not matter.
    let out = score(
        "hit6",
        json!(["Never", " RARELY ", "never", "never", "never", "never"]),
    );
    assert!(close(&out["score"], 38.0), "{out}");
    // All six needed.
    let out = score(
        "hit6",
        json!(["never", "never", "never", "never", "never", null]),
    );
    assert_eq!(out["score"], Value::Null);
    assert!(out["reason"].is_string());
}

#[test]
fn bpi_severity_and_interference() {
    // Cleeland (instruments.md): severity = mean of items 3–6; interference = mean of the
    // answered 9A–9G, valid with at least 4 of 7.
    let out = score(
        "bpi",
        json!({"severity": [8, 2, 5, 3], "interference": [7, 6, 5, 4, 3, 2, 1]}),
    );
    assert!(close(&out["severity"], 4.5), "{out}");
    assert!(close(&out["interference"], 4.0), "{out}");
    assert_eq!(out["prorated"], false);
    assert!(out.get("score").is_none());
    // Four of seven answered: (7 + 1 + 2 + 3) / 4 = 3.25, from the answered items.
    let out = score(
        "bpi",
        json!({"severity": [4, 5, 6, 7], "interference": [7, null, null, null, 1, 2, 3]}),
    );
    assert!(close(&out["interference"], 3.25), "{out}");
    assert!(close(&out["severity"], 5.5), "{out}");
    assert_eq!(out["prorated"], true);
    // Three of seven: no interference score; severity needs all four.
    let out = score(
        "bpi",
        json!({"severity": [4, 5, 6, null], "interference": [7, null, null, null, null, 2, 3]}),
    );
    assert_eq!(out["interference"], Value::Null);
    assert_eq!(out["severity"], Value::Null);
    let reason = out["reason"].as_str().unwrap();
    assert!(
        reason.contains("severity") && reason.contains("interference"),
        "{reason}"
    );
}

#[test]
fn fiqr_domains_and_total_by_the_published_formulas() {
    // Bennett 2009 (instruments.md): function sum / 3, overall sum, symptoms sum / 2;
    // total = their sum. All 5s: 45/3 + 10 + 50/2 = 15 + 10 + 25 = 50.
    let out = score(
        "fiqr",
        json!({"function": ([5; 9]), "overall": [5, 5], "symptoms": ([5; 10])}),
    );
    assert!(close(&out["score"], 50.0), "{out}");
    assert!(close(&out["domains"]["function"], 15.0));
    assert!(close(&out["domains"]["overall"], 10.0));
    assert!(close(&out["domains"]["symptoms"], 25.0));
    // A missing function item: the domain's sum scaled by 9/8. Items 2–9 = 6 (sum 48):
    // 48 × 9/8 / 3 = 18; total 18 + 0 + 0 = 18.
    let mut function = vec![json!(null)];
    function.extend(std::iter::repeat_n(json!(6), 8));
    let out = score(
        "fiqr",
        json!({"function": function, "overall": [0, 0], "symptoms": ([0; 10])}),
    );
    assert!(close(&out["domains"]["function"], 18.0), "{out}");
    assert!(close(&out["score"], 18.0), "{out}");
    assert_eq!(out["prorated"], true);
    assert_eq!(out["missing_items"], json!(["1"]));
}

#[test]
fn nrs_peg_and_the_aldrete_discharge_threshold() {
    let out = score("nrs", json!([7]));
    assert!(close(&out["score"], 7.0), "{out}");
    // PEG (Krebs 2009): the mean of the three items: (7 + 5 + 6) / 3 = 6.
    let out = score("peg", json!([7, 5, 6]));
    assert!(close(&out["score"], 6.0), "{out}");
    let out = score("peg", json!([7, 5, null]));
    assert_eq!(out["score"], Value::Null);
    // Modified Aldrete (Aldrete 1995): total ≥ 9 meets discharge criteria.
    let out = score("aldrete", json!([2, 2, 2, 2, 1]));
    assert!(close(&out["score"], 9.0));
    assert_eq!(out["discharge_ready"], true);
    let out = score("aldrete", json!([2, 2, 2, 1, 1]));
    assert!(close(&out["score"], 8.0));
    assert_eq!(out["discharge_ready"], false);
    assert_eq!(out["band"], "Does not meet discharge criteria");
    // A criterion not assessed: readiness unknown, never "ready".
    let out = score("aldrete", json!([2, 2, 2, 2, null]));
    assert_eq!(out["discharge_ready"], Value::Null);
    assert_eq!(out["score"], Value::Null);
}

#[test]
fn invalid_answers_exit_non_zero_naming_the_item_and_the_rule() {
    let check = |instrument: &str, input: &str, expected: &[&str]| {
        let message = refused(instrument, input);
        for part in expected {
            assert!(message.contains(part), "{instrument} {input}: {message}");
        }
    };
    // Off the item's scale.
    check(
        "phq9",
        r#"{"answers": [0, 0, 0, 4, 0, 0, 0, 0, 0]}"#,
        &["item 4", "4 is not allowed", "one of 0 (Not at all)"],
    );
    check(
        "nrs",
        r#"{"answers": [11]}"#,
        &["item 1", "a whole number from 0 to 10"],
    );
    check(
        "aldrete",
        r#"{"answers": [2, 2, 3, 2, 2]}"#,
        &["item circulation", "3 is not allowed"],
    );
    check(
        "odi",
        r#"{"answers": [0, 0, 0, 0, 0, 0, 0, 0, 0, -1]}"#,
        &["item 10", "-1 is not allowed"],
    );
    // Not a whole number, or not a number.
    check(
        "gad7",
        r#"{"answers": [1, 1, 1.5, 1, 1, 1, 1]}"#,
        &["answers[2]", "item 3", "1.5 is not allowed"],
    );
    check(
        "peg",
        r#"{"answers": [1, "five", 1]}"#,
        &["answers[1]", "item 2", "\"five\" is not allowed"],
    );
    // Wrong number of answers.
    check(
        "phq9",
        r#"{"answers": [0, 0, 0]}"#,
        &["phq9 has 9", "got 3 answers", "null for a missing answer"],
    );
    // HIT-6: only its response words.
    check(
        "hit6",
        r#"{"answers": ["often", "never", "never", "never", "never", "never"]}"#,
        &[
            "item 1",
            "\"often\" is not a response",
            "never, rarely, sometimes, very often, always",
        ],
    );
    check(
        "hit6",
        r#"{"answers": [6, "never", "never", "never", "never", "never"]}"#,
        &["item 1", "6 is not a response"],
    );
    // BPI and FIQR groups.
    check(
        "bpi",
        r#"{"answers": {"severity": [1, 1, 1, 1], "interference": [1, 1, 1]}}"#,
        &["answers.interference", "7 items", "got 3 answers"],
    );
    check(
        "bpi",
        r#"{"answers": {"severity": [1, 1, 1, 1], "interference": [1, 1, 1, 1, 1, 1, 1], "worst": [1]}}"#,
        &["answers.worst", "unknown group"],
    );
    check(
        "bpi",
        r#"{"answers": [1, 1, 1, 1]}"#,
        &["bpi takes an object of lists", "severity, interference"],
    );
    check(
        "fiqr",
        r#"{"answers": {"function": [1, 1, 1, 1, 1, 1, 1, 1, 1], "overall": [1, 1]}}"#,
        &["answers.symptoms", "12, 13"],
    );
    // The envelope.
    check("phq9", r#"[0, 0]"#, &["{\"answers\": …}"]);
    check("phq9", r#"{"answer": [0]}"#, &["answer: unknown field"]);
    check("phq9", r#"{}"#, &["answers: missing"]);
    check("phq9", "not json", &["not JSON"]);
    check(
        "phq-10",
        r#"{"answers": []}"#,
        &["--instrument", "unknown instrument \"phq-10\"", "phq9"],
    );
}

#[test]
fn a_batch_of_paper_forms_gives_one_result_line_each_or_names_the_bad_one() {
    let batch =
        "{\"answers\": [1, 1, 1, 1, 1, 0, 0, 0, 0]}\n{\"answers\": [2, 2, 2, 2, 2, 0, 0, 0, 0]}\n";
    let (ok, stdout, stderr) = run(&["instruments", "score", "--instrument", "phq9"], batch);
    assert!(ok, "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    // Kroenke 2001: 5 → mild, 10 → moderate.
    assert_eq!(lines[0]["band"], "Mild");
    assert_eq!(lines[1]["band"], "Moderate");
    // The stable id of the instrument is accepted too.
    let (ok, _, stderr) = run(&["instruments", "score", "--instrument", "phq-9"], batch);
    assert!(ok, "{stderr}");
    let bad =
        "{\"answers\": [1, 1, 1, 1, 1, 0, 0, 0, 0]}\n{\"answers\": [9, 2, 2, 2, 2, 0, 0, 0, 0]}\n";
    let message = refused("phq9", bad);
    assert!(
        message.contains("response 2") && message.contains("item 1: 9 is not allowed"),
        "{message}"
    );
    assert!(refused("phq9", "").contains("empty"));
}
