//! The words of infusion day (SPEC §1 step 5): protocols, orders, ceilings,
//! refusals, the PK preview's bands and warnings.

use respite_clinical::dosing::{Ceiling, DosingError, DosingWeightBasis, KetamineForm};
use respite_pk::{BindingLimit, TargetWarning, Warning};
use respite_store::{CheckRefusal, OrderRefusal};

/// A number with up to `places` decimals, trailing zeros dropped.
pub fn number(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

pub fn drug(form: KetamineForm) -> &'static str {
    match form {
        KetamineForm::Racemic => "Ketamine (racemic)",
        KetamineForm::Esketamine => "Esketamine (S-ketamine)",
    }
}

pub fn weight_basis(basis: DosingWeightBasis) -> &'static str {
    match basis {
        DosingWeightBasis::Actual => "actual body weight",
        DosingWeightBasis::Ideal => "ideal body weight (Devine 1974)",
        DosingWeightBasis::Adjusted => "adjusted body weight (ideal + 0.4 × excess)",
    }
}

pub fn ceiling(ceiling: Ceiling) -> &'static str {
    match ceiling {
        Ceiling::BolusPerKg => "Bolus per kg",
        Ceiling::InfusionRatePerKg => "Infusion rate per kg",
        Ceiling::InfusionRateAbsolute => "Infusion rate",
        Ceiling::SessionPerKg => "Session total per kg",
        Ceiling::SessionAbsolute => "Session total",
    }
}

/// A stored ceiling code (`respite_store::ceiling_code`) in words.
pub fn ceiling_code(code: &str) -> &'static str {
    Ceiling::ALL
        .into_iter()
        .find(|c| respite_store::ceiling_code(*c) == code)
        .map(ceiling)
        .unwrap_or("A dose ceiling")
}

/// The unit of a stored ceiling code's values.
pub fn ceiling_code_unit(code: &str) -> &'static str {
    match Ceiling::ALL
        .into_iter()
        .find(|c| respite_store::ceiling_code(*c) == code)
    {
        Some(Ceiling::BolusPerKg | Ceiling::SessionPerKg) => "mg/kg",
        Some(Ceiling::InfusionRatePerKg) => "mg/kg/h",
        Some(Ceiling::InfusionRateAbsolute) => "mg/h",
        Some(Ceiling::SessionAbsolute) => "mg",
        None => "",
    }
}

pub fn refusal(refusal: &OrderRefusal) -> String {
    match refusal {
        OrderRefusal::NoSuchPatient => "There is no such patient.".into(),
        OrderRefusal::NoDecision => {
            "No screening decision has been signed: a clinician must find the patient eligible first."
                .into()
        }
        OrderRefusal::DecisionNotEligible => {
            "The screening decision in force is not “eligible”.".into()
        }
        OrderRefusal::DecisionOutOfDate => {
            "The screening decision is out of date: the chart changed since it was signed. Review the screening and sign a new decision."
                .into()
        }
        OrderRefusal::NoPlan => "The patient has no treatment plan yet.".into(),
        OrderRefusal::NoWeight => {
            "No body weight is recorded: weigh the patient and enter it in the records.".into()
        }
        OrderRefusal::WeightTooOld { days, max_days } => format!(
            "The latest weight is {days} days old; the clinic asks for one measured within {max_days} {}. Weigh the patient today.",
            if *max_days == 1 { "day" } else { "days" }
        ),
        OrderRefusal::NoSuchProtocol => "protocol: choose one of the library's protocols.".into(),
        OrderRefusal::ProtocolInactive => {
            "protocol: this version is not active; choose an active protocol.".into()
        }
        OrderRefusal::NotAClinician => {
            "Only a clinician may order an infusion or override a ceiling.".into()
        }
        OrderRefusal::Dosing(error) => dosing_error(error),
    }
}

pub fn dosing_error(error: &DosingError) -> String {
    match error {
        DosingError::CeilingsExceeded(breaches) => {
            let list: Vec<String> = breaches
                .iter()
                .map(|b| {
                    format!(
                        "{} {} is above the limit {}{}",
                        ceiling(b.ceiling),
                        b.value,
                        b.limit,
                        if b.beyond_override {
                            " even with the override"
                        } else {
                            ""
                        }
                    )
                })
                .collect();
            format!(
                "Above a ceiling: {}. A clinician may override with a written reason.",
                list.join("; ")
            )
        }
        other => format!("The dose cannot be calculated: {other}."),
    }
}

pub fn check_refusal(refusal: &CheckRefusal) -> String {
    match refusal {
        CheckRefusal::NoSuchOrder => "There is no such order.".into(),
        CheckRefusal::Orderer => {
            "The second check must be made by another nurse or clinician, not the one who ordered."
                .into()
        }
        CheckRefusal::NotClinicalStaff => "Only a nurse or a clinician may check an order.".into(),
        CheckRefusal::AlreadyChecked => "This order has been checked already.".into(),
        CheckRefusal::Mismatch(field) => format!(
            "{}: what you read does not match the order. Check the drug and the pump again.",
            match *field {
                "concentration_mg_ml" => "Concentration",
                "weight_kg" => "Weight",
                _ => "Pump rate",
            }
        ),
    }
}

pub fn band_name(name: &str) -> &'static str {
    match name {
        "analgesia" => "Analgesia",
        "psychotomimetic" => "Psychotomimetic effects",
        "emergence" => "Emergence reactions",
        "anaesthesia" => "Anaesthesia",
        _ => "Band",
    }
}

pub fn pk_warning(warning: &Warning) -> String {
    match warning {
        Warning::OutsideValidity {
            model,
            covariate,
            value,
            basis,
            ..
        } => format!(
            "The patient’s {} ({}) lies outside the population the {} model was fitted on ({basis}): read the curve with caution.",
            covariate.replace('_', " ").replace(" kg", "").replace(" years", ""),
            number(*value, 1),
            model.name()
        ),
        Warning::Ke0Assumed { ke0, time_to_peak } => format!(
            "No paper publishes ketamine’s ke0: the effect site uses ke0 {} /min, derived from a peak effect {} min after a bolus (pk-models.md).",
            number(ke0.0, 3),
            number(time_to_peak.value(), 1)
        ),
    }
}

pub fn target_warning(warning: &TargetWarning) -> String {
    match warning {
        TargetWarning::ReachedLate {
            reached_at,
            reach_within,
            binding,
        } => format!(
            "The ceilings do not allow reaching the target within {} min; the plan reaches it at {} min ({}).",
            number(reach_within.value(), 0),
            number(reached_at.value(), 1),
            binding_limit(binding)
        ),
    }
}

pub fn binding_limit(binding: &BindingLimit) -> String {
    match binding {
        BindingLimit::Bolus { limit, .. } => format!("the bolus ceiling {limit} binds"),
        BindingLimit::Rate { limit, .. } => format!("the rate ceiling {limit} binds"),
        BindingLimit::BolusOrRate { .. } => "the bolus and the rate ceilings bind".into(),
        BindingLimit::BolusAndRate { .. } => "the bolus and the rate ceilings both bind".into(),
        BindingLimit::RateChangeInterval { interval } => format!(
            "rate changes {} min apart cannot hold it",
            number(interval.value(), 0)
        ),
    }
}
