//! `respite instruments` and `respite instruments score --instrument ID`: the wire format of the
//! command (SPEC §3), for scoring paper forms in bulk and for anyone to check. Every score, band,
//! flag, prorating and discharge verdict comes from `respite-clinical` (the same code the portal
//! uses); this module only reads answers in the command's layout and writes the result as JSON.
//!
//! Answers (`{"answers": …}` on standard input; several one after another for a batch):
//! - a list in item order, `null` for a missing answer: `nrs`, `peg`, `phq9` (9 items, or 10 with
//!   item 10, difficulty), `gad7`, `odi` (sections 1–10), `hit6` (the response words: never,
//!   rarely, sometimes, very often, always) and `aldrete` (activity, respiration, circulation,
//!   consciousness, oxygen saturation);
//! - an object of lists for `bpi` (`severity`: items 3–6, `interference`: 9A–9G) and `fiqr`
//!   (`function`: items 1–9, `overall`: 10–11, `symptoms`: 12–21).
//!
//! Output: `score` (for `bpi`: `severity` and `interference`), `band` where the instrument has
//! bands (in the words of shared/clinical/instruments.md), `flags` (`item9` when PHQ-9 item 9 is
//! 1 or more, `item9_unanswered` when it is missing: safety status unknown), `prorated` (an
//! instrument's missing-answer rule was applied) with `missing_items`, `discharge_ready` for
//! `aldrete`; a score that cannot be computed is `null` with `reason`. Invalid answers are an
//! error naming the item and the rule.

use anyhow::{anyhow, bail, Context};
use respite_clinical::instruments::{
    AnswerScale, Answers, ClinicalFlag, Code, Completeness, Instrument, InstrumentDefinition,
    ItemRole, Licence, RecallPeriod, ScaleResult, Scored, SourceStatus,
};
use serde_json::{json, Map, Value};

/// An instrument as the command names it, and how its answers are laid out.
struct CommandInstrument {
    id: &'static str,
    instrument: Instrument,
    layout: Layout,
}

enum Layout {
    /// One list of every item in form order.
    List,
    /// The HIT-6's response words, one per item in form order.
    Words,
    /// Named lists, each the items of one scale: (JSON key, scale id).
    Groups(&'static [(&'static str, &'static str)]),
}

/// The command's instruments, in the order a clinic usually lists them (SPEC §3; the ids of the
/// command are short, the stable storage ids are `Instrument::id`).
const INSTRUMENTS: [CommandInstrument; 9] = [
    CommandInstrument {
        id: "nrs",
        instrument: Instrument::PainNumericRating,
        layout: Layout::List,
    },
    CommandInstrument {
        id: "peg",
        instrument: Instrument::Peg,
        layout: Layout::List,
    },
    CommandInstrument {
        id: "bpi",
        instrument: Instrument::BriefPainInventory,
        layout: Layout::Groups(&[("severity", "severity"), ("interference", "interference")]),
    },
    CommandInstrument {
        id: "phq9",
        instrument: Instrument::Phq9,
        layout: Layout::List,
    },
    CommandInstrument {
        id: "gad7",
        instrument: Instrument::Gad7,
        layout: Layout::List,
    },
    CommandInstrument {
        id: "odi",
        instrument: Instrument::OswestryDisabilityIndex,
        layout: Layout::List,
    },
    CommandInstrument {
        id: "hit6",
        instrument: Instrument::Hit6,
        layout: Layout::Words,
    },
    CommandInstrument {
        id: "fiqr",
        instrument: Instrument::Fiqr,
        layout: Layout::Groups(&[
            ("function", "function"),
            ("overall", "overall-impact"),
            ("symptoms", "symptoms"),
        ]),
    },
    CommandInstrument {
        id: "aldrete",
        instrument: Instrument::ModifiedAldrete,
        layout: Layout::List,
    },
];

/// `respite instruments`: every instrument with its items, answers, codes and licence.
pub fn list() -> anyhow::Result<()> {
    let list: Vec<Value> = INSTRUMENTS.iter().map(describe).collect();
    println!("{}", serde_json::to_string_pretty(&list)?);
    Ok(())
}

/// `respite instruments score --instrument ID`: `{"answers": …}` from standard input. Several
/// responses one after another (e.g. one per line, for a batch of paper forms) give one result
/// line each, in order; when any is invalid nothing is printed and the error names it.
pub fn score(id: &str, input: &str) -> anyhow::Result<()> {
    let command = find(id)?;
    let responses: Vec<Value> = serde_json::Deserializer::from_str(input)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .context("standard input is not JSON of the form {\"answers\": …}")?;
    if responses.is_empty() {
        bail!("standard input is empty; give {{\"answers\": …}}");
    }
    let several = responses.len() > 1;
    let mut lines = Vec::with_capacity(responses.len());
    for (index, response) in responses.into_iter().enumerate() {
        let scored = score_one(command, response);
        let output = match (scored, several) {
            (Ok(output), _) => output,
            (Err(error), false) => return Err(error),
            (Err(error), true) => return Err(error.context(format!("response {}", index + 1))),
        };
        lines.push(serde_json::to_string(&output)?);
    }
    println!("{}", lines.join("\n"));
    Ok(())
}

fn score_one(command: &CommandInstrument, response: Value) -> anyhow::Result<Value> {
    let answers = read_answers(command, response)?;
    let scored = command
        .instrument
        .score(&answers.given)
        .map_err(|error| anyhow!("{error}"))?;
    Ok(result(command, &scored, &answers.missing))
}

fn find(id: &str) -> anyhow::Result<&'static CommandInstrument> {
    INSTRUMENTS
        .iter()
        .find(|command| command.id == id || command.instrument.id() == id)
        .ok_or_else(|| {
            let known: Vec<&str> = INSTRUMENTS.iter().map(|command| command.id).collect();
            anyhow!(
                "--instrument: unknown instrument {id:?}; one of {}",
                known.join(", ")
            )
        })
}

/// Answers read from the command's layout, and the items left blank (in form order).
struct ReadAnswers {
    given: Answers,
    missing: Vec<&'static str>,
}

fn read_answers(command: &CommandInstrument, value: Value) -> anyhow::Result<ReadAnswers> {
    let definition = command.instrument.definition();
    let Value::Object(mut top) = value else {
        bail!("standard input must be a JSON object {{\"answers\": …}}");
    };
    if let Some(other) = top.keys().find(|key| key.as_str() != "answers") {
        bail!("{other}: unknown field; the input is {{\"answers\": …}}");
    }
    let answers = top
        .remove("answers")
        .ok_or_else(|| anyhow!("answers: missing; the input is {{\"answers\": …}}"))?;
    let mut read = ReadAnswers {
        given: Answers::new(),
        missing: Vec::new(),
    };
    match command.layout {
        Layout::List | Layout::Words => {
            let Value::Array(values) = answers else {
                bail!(
                    "answers: {} takes a list in item order ({}), null for a missing answer",
                    command.id,
                    item_list(definition)
                );
            };
            let all = definition.items.len();
            let scored = definition
                .items
                .iter()
                .filter(|item| item.role == ItemRole::Scored)
                .count();
            if values.len() != all && values.len() != scored {
                let counts = if all == scored {
                    format!("{all}")
                } else {
                    format!("{scored} (or {all} with the recorded items)")
                };
                bail!(
                    "answers: {} has {counts} items in order ({}); got {} answers — give null for a \
                     missing answer",
                    command.id,
                    item_list(definition),
                    values.len()
                );
            }
            let items: Vec<&'static str> = definition.items.iter().map(|item| item.id).collect();
            read_values(command, &items, &values, "answers", &mut read)?;
        }
        Layout::Groups(groups) => {
            let Value::Object(mut object) = answers else {
                let keys: Vec<&str> = groups.iter().map(|(key, _)| *key).collect();
                bail!(
                    "answers: {} takes an object of lists {{{}}}",
                    command.id,
                    keys.join(", ")
                );
            };
            if let Some(other) = object
                .keys()
                .find(|key| !groups.iter().any(|(name, _)| name == key))
            {
                let keys: Vec<&str> = groups.iter().map(|(key, _)| *key).collect();
                bail!(
                    "answers.{other}: unknown group; {} has {}",
                    command.id,
                    keys.join(", ")
                );
            }
            for (key, scale) in groups {
                let items = command.instrument.scale_items(scale).unwrap_or(&[]);
                let field = format!("answers.{key}");
                let values = match object.remove(*key) {
                    Some(Value::Array(values)) => values,
                    Some(_) | None => bail!(
                        "{field}: a list of the {} items {} in order, null for a missing answer",
                        items.len(),
                        items.join(", ")
                    ),
                };
                if values.len() != items.len() {
                    bail!(
                        "{field}: {} items in order ({}); got {} answers — give null for a missing \
                         answer",
                        items.len(),
                        items.join(", "),
                        values.len()
                    );
                }
                read_values(command, items, &values, &field, &mut read)?;
            }
        }
    }
    Ok(read)
}

/// Reads one list of answers against its items.
fn read_values(
    command: &CommandInstrument,
    items: &[&'static str],
    values: &[Value],
    field: &str,
    read: &mut ReadAnswers,
) -> anyhow::Result<()> {
    let definition = command.instrument.definition();
    for (index, (item_id, value)) in items.iter().zip(values).enumerate() {
        let Some(item) = definition.item(item_id) else {
            bail!("internal: {} has no item {item_id}", command.id);
        };
        let place = format!("{field}[{index}] ({} item {})", definition.name, item.id);
        let answer = match (value, &command.layout) {
            (Value::Null, _) => {
                read.missing.push(item.id);
                continue;
            }
            (Value::String(word), Layout::Words) => {
                let AnswerScale::Choices(choices) = item.answers else {
                    bail!(
                        "internal: {} item {} has no response words",
                        command.id,
                        item.id
                    );
                };
                let word = word.trim();
                match choices
                    .iter()
                    .find(|choice| choice.label.eq_ignore_ascii_case(word))
                {
                    Some(choice) => choice.value,
                    None => bail!(
                        "{place}: {word:?} is not a response; the answer must be one of {}",
                        words(item.answers)
                    ),
                }
            }
            (_, Layout::Words) => bail!(
                "{place}: {value} is not a response; the answer must be one of the words {}",
                words(item.answers)
            ),
            (Value::Number(number), _) => {
                let whole = number
                    .as_i64()
                    .or_else(|| {
                        number
                            .as_f64()
                            .filter(|x| x.fract() == 0.0 && x.abs() < 1e9)
                            .map(|x| x as i64)
                    })
                    .and_then(|whole| i32::try_from(whole).ok());
                match whole {
                    Some(whole) => whole,
                    None => bail!(
                        "{place}: {number} is not allowed, the answer must be {}",
                        item.answers
                    ),
                }
            }
            _ => bail!(
                "{place}: {value} is not allowed, the answer must be {} (or null when missing)",
                item.answers
            ),
        };
        read.given.insert(item.id, answer);
    }
    Ok(())
}

/// The JSON result of a scored response.
fn result(command: &CommandInstrument, scored: &Scored, missing: &[&'static str]) -> Value {
    let definition = command.instrument.definition();
    let mut out = Map::new();
    out.insert("instrument".into(), json!(command.id));
    out.insert("name".into(), json!(definition.name));
    let mut reasons = Vec::new();
    let mut prorated = false;
    let score_of = |id: &str, reasons: &mut Vec<String>, prorated: &mut bool| -> Value {
        let Some(scale) = scored.scale(id) else {
            return Value::Null;
        };
        match &scale.result {
            ScaleResult::Computed(score) => {
                if matches!(score.completeness, Completeness::Prorated { .. }) {
                    *prorated = true;
                }
                json!(score.value)
            }
            ScaleResult::NotComputable(why) => {
                reasons.push(format!(
                    "{}: not computable, missing {}; {}",
                    scale.scale.name,
                    why.missing_items.join(", "),
                    why.rule
                ));
                Value::Null
            }
        }
    };
    match command.instrument {
        Instrument::BriefPainInventory => {
            for scale in ["severity", "interference"] {
                let value = score_of(scale, &mut reasons, &mut prorated);
                out.insert(scale.into(), value);
            }
        }
        _ => {
            // The instrument's headline scale: its total (FIQR's total of the three domains).
            let headline = definition
                .scales
                .iter()
                .find(|scale| scale.id == "total")
                .or_else(|| definition.scales.first())
                .map(|scale| scale.id)
                .unwrap_or("total");
            let value = score_of(headline, &mut reasons, &mut prorated);
            out.insert("score".into(), value);
            if let Some(scale) = scored.scale(headline) {
                if !scale.scale.bands.is_empty() {
                    out.insert(
                        "band".into(),
                        json!(scale.result.band().map(|band| band.label)),
                    );
                }
            }
            if command.instrument == Instrument::Fiqr {
                let mut domains = Map::new();
                for (key, scale) in [
                    ("function", "function"),
                    ("overall", "overall-impact"),
                    ("symptoms", "symptoms"),
                ] {
                    domains.insert(key.into(), json!(scored.value(scale)));
                }
                out.insert("domains".into(), Value::Object(domains));
            }
        }
    }
    let flags: Vec<&str> = scored
        .flags
        .iter()
        .map(|flag| match flag {
            ClinicalFlag::SelfHarmThoughts { .. } => "item9",
            ClinicalFlag::SafetyQuestionUnanswered => "item9_unanswered",
        })
        .collect();
    out.insert("flags".into(), json!(flags));
    out.insert("prorated".into(), json!(prorated));
    out.insert("missing_items".into(), json!(missing));
    if command.instrument == Instrument::ModifiedAldrete {
        out.insert("discharge_ready".into(), json!(scored.discharge_ready()));
    }
    if !reasons.is_empty() {
        out.insert("reason".into(), json!(reasons.join(" ")));
    }
    Value::Object(out)
}

/// One instrument for `respite instruments`.
fn describe(command: &CommandInstrument) -> Value {
    let definition = command.instrument.definition();
    let items: Vec<Value> = definition
        .items
        .iter()
        .map(|item| {
            json!({
                "id": item.id,
                "loinc": loinc(item.code),
                "label": item.label,
                "text": item.text,
                "answers": answer_options(item.answers),
                "scored": item.role == ItemRole::Scored,
            })
        })
        .collect();
    let scales: Vec<Value> = definition
        .scales
        .iter()
        .map(|scale| {
            json!({
                "id": scale.id,
                "name": scale.name,
                "loinc": loinc(scale.code),
                "lowest": scale.lowest,
                "highest": scale.highest,
                "unit": scale.unit,
                "items": command.instrument.scale_items(scale.id),
                "bands": scale.bands.iter().map(|band| json!({
                    "label": band.label, "lowest": band.lowest, "highest": band.highest,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let answers_format = match command.layout {
        Layout::List => format!(
            "a list in item order ({}), null for a missing answer",
            item_list(definition)
        ),
        Layout::Words => format!(
            "a list of the response words ({}) in item order, null for a missing answer",
            words(definition.items.first().map_or(
                AnswerScale::Range {
                    lowest: 0,
                    highest: 0
                },
                |item| item.answers
            ))
        ),
        Layout::Groups(groups) => groups
            .iter()
            .map(|(key, scale)| {
                format!(
                    "\"{key}\": [items {}]",
                    command
                        .instrument
                        .scale_items(scale)
                        .unwrap_or(&[])
                        .join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    json!({
        "id": command.id,
        "stable_id": definition.id,
        "name": definition.name,
        "loinc": loinc(definition.panel_code),
        "licence": match definition.licence {
            Licence::Free => json!({"free": true}),
            Licence::Licensed { holder } => json!({"free": false, "holder": holder,
                "note": "scoring is public; the item wording needs the holder's licence and is loaded by the clinic"}),
        },
        "recall": recall(definition.recall_period),
        "instructions": definition.instructions,
        "answers_format": answers_format,
        "items": items,
        "scales": scales,
        "missing_answer_rule": definition.missing_answer_rule,
        "source": definition.source,
    })
}

fn loinc(code: Code) -> Value {
    match code {
        Code::Loinc { code, status } => json!({
            "code": code,
            "status": match status {
                SourceStatus::Checked => "checked",
                SourceStatus::ToCheck => "to check",
            },
        }),
        Code::Local { .. } => Value::Null,
    }
}

fn answer_options(scale: AnswerScale) -> Value {
    match scale {
        AnswerScale::Range { lowest, highest } => json!({"lowest": lowest, "highest": highest}),
        AnswerScale::Choices(choices) => json!(choices
            .iter()
            .map(|choice| json!({"value": choice.value, "label": choice.label}))
            .collect::<Vec<_>>()),
    }
}

fn recall(period: RecallPeriod) -> String {
    match period {
        RecallPeriod::Now => "now".into(),
        RecallPeriod::Hours(hours) => format!("{hours} hours"),
        RecallPeriod::Days(days) => format!("{days} days"),
        RecallPeriod::Weeks(weeks) => format!("{weeks} weeks"),
    }
}

fn item_list(definition: &InstrumentDefinition) -> String {
    definition
        .items
        .iter()
        .map(|item| item.id)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The response words of a choice scale, lower case: "never, rarely, …".
fn words(scale: AnswerScale) -> String {
    match scale {
        AnswerScale::Choices(choices) => choices
            .iter()
            .map(|choice| choice.label.to_lowercase())
            .collect::<Vec<_>>()
            .join(", "),
        AnswerScale::Range { .. } => String::new(),
    }
}
