//! A stable digest of exactly the facts a screening verdict reads, so that a decision
//! taken on one set of facts can be shown *out of date* once one of them changes.
//!
//! The digest is SHA-256 over a canonical text: one line per fact, each list sorted,
//! so that the order in which entries were gathered does not matter. The text format
//! is versioned (`v1`); changing it changes every fingerprint, which marks every
//! decision out of date — do so only with a new version line.

use sha2::{Digest, Sha256};

use super::facts::{PatientFacts, Qualification, StopReason, TreatmentClass};

/// The SHA-256 (lower-case hex) of [`fingerprint_text`].
pub fn fingerprint(facts: &PatientFacts) -> String {
    let digest = Sha256::digest(fingerprint_text(facts).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The canonical text the fingerprint digests (shown to a reviewer who asks why a
/// decision went out of date).
pub fn fingerprint_text(facts: &PatientFacts) -> String {
    let mut lines = vec!["respite screening facts v1".to_owned()];
    lines.push(format!("onset {}", date(facts.pain_onset)));
    let mut group = |mut entries: Vec<String>| {
        entries.sort();
        lines.extend(entries);
    };
    group(
        facts
            .diagnoses
            .iter()
            .map(|d| {
                let by = match &d.diagnosed_by {
                    Some(p) => format!("{}|{}", field(&p.name), qualification(&p.qualification)),
                    None => "-".to_owned(),
                };
                format!(
                    "diagnosis {}|{}|{by}|{}",
                    field(&d.code),
                    field(d.code_system_version.as_deref().unwrap_or("-")),
                    date(d.diagnosed_on)
                )
            })
            .collect(),
    );
    group(
        facts
            .records
            .iter()
            .map(|r| format!("record {:?}|{}", r.kind, r.dated))
            .collect(),
    );
    group(
        facts
            .conventional_treatments
            .iter()
            .map(|t| {
                format!(
                    "treatment {}|{}|{}|{}",
                    field(&t.name),
                    class(&t.class),
                    t.duration_days
                        .map_or_else(|| "-".to_owned(), |d| d.to_string()),
                    t.stopped_because
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), reason)
                )
            })
            .collect(),
    );
    group(
        facts
            .medications
            .iter()
            .map(|m| {
                format!(
                    "medication {}|{}",
                    field(&m.name),
                    field(m.rxnorm_ingredient.as_deref().unwrap_or("-"))
                )
            })
            .collect(),
    );
    group(
        facts
            .allergies
            .iter()
            .map(|a| {
                format!(
                    "allergy {}|{}",
                    field(&a.substance),
                    field(a.rxnorm_ingredient.as_deref().unwrap_or("-"))
                )
            })
            .collect(),
    );
    match &facts.contraindication_review {
        None => lines.push("review -".to_owned()),
        Some(review) => {
            let mut present: Vec<String> =
                review.present.iter().map(|c| format!("{c:?}")).collect();
            present.sort();
            present.dedup();
            lines.push(format!(
                "review {}|{}",
                review.reviewed_on,
                present.join(",")
            ));
        }
    }
    let risks = facts.pre_infusion_risks;
    lines.push(format!(
        "risks {}|{}|{}",
        u8::from(risks.cardiovascular_suspected_or_high_risk),
        u8::from(risks.liver_dysfunction_or_risk),
        u8::from(risks.high_dose_frequent_infusions_planned)
    ));
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn date(date: Option<jiff::civil::Date>) -> String {
    date.map_or_else(|| "-".to_owned(), |d| d.to_string())
}

/// Free text with the separators escaped, so that two facts never print alike.
fn field(text: &str) -> String {
    text.trim()
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', "\\n")
}

fn qualification(q: &Qualification) -> String {
    match q {
        Qualification::Physician => "physician".into(),
        Qualification::NursePractitioner => "nurse-practitioner".into(),
        Qualification::PhysicianAssistant => "physician-assistant".into(),
        Qualification::Other(other) => format!("other:{}", field(other)),
    }
}

fn class(c: &TreatmentClass) -> String {
    match c {
        TreatmentClass::Other(other) => format!("Other:{}", field(other)),
        known => format!("{known:?}"),
    }
}

fn reason(r: &StopReason) -> String {
    match r {
        StopReason::Other(other) => format!("Other:{}", field(other)),
        known => format!("{known:?}"),
    }
}
