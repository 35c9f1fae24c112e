//! The controlled-substance register in words: what each entry is, the
//! kinds of count, amounts as mg with their mL at the vial's strength, and
//! the register's form fields named for people. Codes stay in `data-`
//! attributes and in the inspection export.

use respite_clinical::dosing::units::MgPerMl;
use respite_clinical::register::{
    trim_decimals, DrugAmount, RegisterDrug, RegisterRule, Schedule, WitnessRefusal,
};
use respite_store::{BusinessTime, CountKind, RegisterEntryKind as EntryKind};

/// A register drug's name, as on the list of vials: `Ketamine`.
pub fn drug(drug: impl std::borrow::Borrow<RegisterDrug>) -> &'static str {
    match drug.borrow() {
        RegisterDrug::Ketamine => "Ketamine",
        RegisterDrug::Midazolam => "Midazolam",
    }
}

/// A DEA schedule with the section of 21 CFR 1308 that lists it.
pub fn schedule(schedule: impl std::borrow::Borrow<Schedule>) -> String {
    let schedule = *schedule.borrow();
    format!("DEA Schedule {} ({})", schedule.roman(), schedule.cfr())
}

/// The drug as the register's heading says it: the product and schedule.
pub fn drug_line(drug: impl std::borrow::Borrow<RegisterDrug>) -> String {
    let drug = *drug.borrow();
    let product = match drug {
        RegisterDrug::Ketamine => "Ketamine hydrochloride injection (racemic)",
        RegisterDrug::Midazolam => "Midazolam injection (as the hydrochloride)",
    };
    format!("{product}, {}", schedule(drug.schedule()))
}

/// A vial as a select lists it: `Midazolam · vial 12 · lot MZ2411 ·
/// 1 mg/mL · 2 mg left`.
pub fn vial_choice(vial: &respite_store::VialRecord) -> String {
    format!(
        "{} · vial {} · lot {} · {} mg/mL · {} left",
        drug(vial.drug),
        vial.id,
        vial.lot,
        trim_decimals(vial.concentration.value(), 2),
        vial.balance
    )
}

/// A vial named in a list of entries: `Midazolam, vial 12 · lot MZ2411`.
pub fn vial_label(vial: &respite_store::VialRecord) -> String {
    format!("{}, vial {} · lot {}", drug(vial.drug), vial.id, vial.lot)
}

/// A count's totals per drug: `13090 mg ketamine; 20 mg midazolam`.
pub fn totals(totals: &[(RegisterDrug, DrugAmount)]) -> String {
    if totals.is_empty() {
        return "none on hand".to_owned();
    }
    totals
        .iter()
        .map(|(d, amount)| format!("{amount} {}", drug(*d).to_lowercase()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What an entry records.
pub fn entry_kind(kind: impl std::borrow::Borrow<EntryKind>) -> &'static str {
    match kind.borrow() {
        EntryKind::Receipt => "Received",
        EntryKind::Draw => "Drawn",
        EntryKind::Administration => "Given",
        EntryKind::Waste => "Wasted",
        EntryKind::Count => "Counted",
        EntryKind::Correction => "Correction",
        EntryKind::Resolution => "Discrepancy resolved",
    }
}

/// Which count.
pub fn count_kind(kind: impl std::borrow::Borrow<CountKind>) -> &'static str {
    match kind.borrow() {
        CountKind::EndOfDay => "End-of-day count",
        CountKind::Biennial => "Biennial inventory",
    }
}

/// When in the day a count was taken (21 CFR 1304.11(a)).
pub fn business_time(time: impl std::borrow::Borrow<BusinessTime>) -> &'static str {
    match time.borrow() {
        BusinessTime::Opening => "at the opening of business",
        BusinessTime::Close => "at the close of business",
    }
}

/// `125 mg (2.5 mL)`: an amount and its volume at the vial's strength.
pub fn amount(
    amount: impl std::borrow::Borrow<DrugAmount>,
    concentration: impl std::borrow::Borrow<MgPerMl>,
) -> String {
    let amount = *amount.borrow();
    format!("{amount} ({})", ml(amount.ml(*concentration.borrow())))
}

/// A volume in mL, to the hundredth.
pub fn ml(value: f64) -> String {
    format!("{} mL", trim_decimals(value, 2))
}

/// A signed change of balance in words: `+500 mg`, `−125 mg`, `no change`.
pub fn change(micrograms: impl std::borrow::Borrow<i64>) -> String {
    let micrograms = *micrograms.borrow();
    let mg = trim_decimals(micrograms.unsigned_abs() as f64 / 1000.0, 3);
    match micrograms.signum() {
        1 => format!("+{mg} mg"),
        -1 => format!("−{mg} mg"),
        _ => "no change".to_owned(),
    }
}

/// A vial's strength: `50 mg/mL, 10 mL vial`.
pub fn strength(
    concentration: impl std::borrow::Borrow<MgPerMl>,
    volume_ml: impl std::borrow::Borrow<f64>,
) -> String {
    format!(
        "{} mg/mL, {} vial",
        trim_decimals(concentration.borrow().value(), 2),
        ml(*volume_ml.borrow())
    )
}

/// A register rule broken by an amount, as the rule's words.
pub fn rule(rule: RegisterRule) -> String {
    rule.to_string()
}

/// Why a witness is refused.
pub fn witness_refusal(refusal: WitnessRefusal) -> String {
    refusal.to_string()
}

/// The register's form fields, named for people (error summaries).
pub fn field_label(field: &str) -> &str {
    match field {
        "drug" => "Drug",
        "ndc" => "NDC",
        "lot" => "Lot",
        "expiry" => "Expiry",
        "concentration" => "Concentration",
        "volume_ml" => "Vial size",
        "vials" => "Number of vials",
        "supplier" => "Supplier",
        "amount" => "Amount",
        "unit" => "Unit",
        "patient" => "Patient",
        "session" => "Infusion session",
        "mrn" => "Patient's MRN",
        "draw" => "Draw",
        "witness" => "Witness",
        "witness_password" => "Witness's password",
        "direction" => "Correction",
        "corrects" => "Entry corrected",
        "count" => "Count",
        "kind" => "Kind of count",
        "business" => "Time of the count",
        "discrepancy" => "Discrepancy",
        "vial" => "Vial",
        "waste_witness_required" => "Witnessed waste",
        "register" => "Register",
        other => other,
    }
}
