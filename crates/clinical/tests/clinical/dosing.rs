//! Dosing: worked examples computed by hand (in the comments), every ceiling just under
//! and just over, overrides, rounding to pump resolution, every bad input a typed
//! error, and a property test that no dose above a ceiling escapes without an override (and that
//! enough random orders reach a dose for it to mean something).

use jiff::civil::date;
use proptest::prelude::*;
use respite_clinical::dosing::units::{
    Centimetres, Kilograms, MgPerHour, MgPerKg, MgPerKgPerHour, MgPerMl, Micrograms, Milligrams,
    Millilitres, Minutes, MlPerHour, QuantityError,
};
use respite_clinical::dosing::{
    adjusted_body_weight, calculate_session, check_next_session, devine_ideal_body_weight,
    seeded_protocol, seeded_protocols, CalculatedStep, Ceiling, CeilingBreach, ClinicianOverride,
    DoseNote, DosingError, DosingSettings, DosingWeightBasis, Evidence, KetamineForm, LimitValue,
    OverrideError, PatientBody, Protocol, ProtocolStep, ProtocolUse, SessionDose, Sex,
    Verification, Vial,
};

// ---------- helpers ----------

/// Relative tolerance 1e-9: the figures below are exact decimals computed by hand;
/// only binary floating point separates them from the program's.
fn assert_close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-9 * expected.abs().max(1e-12);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: got {actual}, expected {expected}"
    );
}

fn settings() -> DosingSettings {
    DosingSettings::default()
}

fn body(kg: f64) -> PatientBody {
    PatientBody::new(kg, None, None, &settings()).expect("plausible test weight")
}

fn body_with_height(kg: f64, cm: f64, sex: Sex) -> PatientBody {
    PatientBody::new(kg, Some(cm), Some(sex), &settings()).expect("plausible test body")
}

fn vial(mg_per_ml: f64) -> Vial {
    Vial {
        drug: KetamineForm::Racemic,
        concentration: MgPerMl::new(mg_per_ml).expect("valid concentration"),
    }
}

fn minutes(m: f64) -> Minutes {
    Minutes::new(m).expect("valid duration")
}

fn bolus(mg_per_kg: f64) -> ProtocolStep {
    ProtocolStep::Bolus {
        dose: MgPerKg::new(mg_per_kg).expect("valid dose"),
        over: minutes(2.0),
    }
}

fn infusion(mg_per_kg_h: f64, min: f64) -> ProtocolStep {
    ProtocolStep::Infusion {
        rate: MgPerKgPerHour::new(mg_per_kg_h).expect("valid rate"),
        duration: minutes(min),
    }
}

/// An orderable racemic protocol on actual weight with the given steps and no caps.
fn custom(steps: Vec<ProtocolStep>) -> Protocol {
    Protocol {
        id: "test".into(),
        name: "test protocol".into(),
        indication: "test".into(),
        drug: KetamineForm::Racemic,
        weight_basis: DosingWeightBasis::Actual,
        steps,
        session_length: None,
        sessions_per_series: None,
        minimum_gap_days: None,
        rate_cap: None,
        session_cap: None,
        trial_target: None,
        premedication: String::new(),
        usage: ProtocolUse::Orderable,
        evidence: Evidence {
            condition: "test".into(),
            strength: "none".into(),
            grade: None,
            source: "test".into(),
        },
        source: "test".into(),
        verification: Verification::ToCheck,
        note: String::new(),
    }
}

fn calc(protocol: &Protocol, kg: f64, mg_per_ml: f64) -> Result<SessionDose, DosingError> {
    calculate_session(protocol, &body(kg), vial(mg_per_ml), &settings(), &[])
}

fn only_step(dose: &SessionDose) -> CalculatedStep {
    assert_eq!(dose.steps.len(), 1);
    dose.steps[0]
}

fn breaches(result: Result<SessionDose, DosingError>) -> Vec<CeilingBreach> {
    match result {
        Err(DosingError::CeilingsExceeded(breaches)) => breaches,
        other => panic!("expected CeilingsExceeded, got {other:?}"),
    }
}

fn ceilings_of(breaches: &[CeilingBreach]) -> Vec<Ceiling> {
    breaches.iter().map(|b| b.ceiling).collect()
}

fn dr_override(ceiling: Ceiling, limit: LimitValue) -> ClinicianOverride {
    ClinicianOverride::new(
        ceiling,
        limit,
        "clinician-17",
        "refractory CRPS, tolerated 1.5 mg/kg/h before",
    )
    .expect("valid override")
}

// ---------- worked examples ----------

#[test]
fn bolus_70_kg_at_0_3_mg_per_kg() {
    // 70 kg × 0.3 mg/kg = 21 mg; 21 mg ÷ 10 mg/mL = 2.1 mL (a multiple of 0.1 mL).
    let dose = calc(&custom(vec![bolus(0.3)]), 70.0, 10.0).expect("within ceilings");
    let CalculatedStep::Bolus {
        dose: mg,
        dose_per_kg,
        volume,
        ..
    } = only_step(&dose)
    else {
        panic!("bolus expected");
    };
    assert_close(mg.value(), 21.0, "mg");
    assert_close(dose_per_kg.value(), 0.3, "mg/kg");
    assert_close(volume.value(), 2.1, "mL");
    assert_close(dose.total.value(), 21.0, "session mg");
}

#[test]
fn bolus_70_kg_at_0_35_mg_per_kg_rounds_down_to_stay_under_the_ceiling() {
    // 70 kg × 0.35 mg/kg = 24.5 mg.
    // At 10 mg/mL: 2.45 mL; to the nearest 0.1 mL that is 2.5 mL = 25 mg = 0.357 mg/kg,
    // above the 0.35 mg/kg ceiling, so it rounds down: 2.4 mL = 24 mg = 0.343 mg/kg.
    let dose = calc(&custom(vec![bolus(0.35)]), 70.0, 10.0).expect("rounded under the ceiling");
    let CalculatedStep::Bolus {
        dose: mg,
        volume,
        prescribed,
        ..
    } = only_step(&dose)
    else {
        panic!("bolus expected");
    };
    assert_close(prescribed.value(), 0.35, "prescribed");
    assert_close(volume.value(), 2.4, "mL");
    assert_close(mg.value(), 24.0, "mg");
    assert!(dose.notes.contains(&DoseNote::RoundedDown { step: 0 }));

    // With a 0.01 mL syringe resolution: 2.45 mL exactly, 24.5 mg.
    let mut fine = settings();
    fine.pump.volume_resolution = Millilitres::new(0.01).expect("valid");
    let dose = calculate_session(
        &custom(vec![bolus(0.35)]),
        &body(70.0),
        vial(10.0),
        &fine,
        &[],
    )
    .expect("exact");
    assert_close(dose.total.value(), 24.5, "mg at 0.01 mL");
    assert_close(dose.total_volume.value(), 2.45, "mL at 0.01 mL");

    // At 50 mg/mL and 0.01 mL: 24.5 ÷ 50 = 0.49 mL.
    let dose = calculate_session(
        &custom(vec![bolus(0.35)]),
        &body(70.0),
        vial(50.0),
        &fine,
        &[],
    )
    .expect("exact");
    assert_close(dose.total_volume.value(), 0.49, "mL at 50 mg/mL");
    assert_close(dose.total.value(), 24.5, "mg at 50 mg/mL");
}

#[test]
fn crps_protocol_80_kg_is_capped_at_25_mg_per_hour() {
    // Schwartzman 2009: 0.35 mg/kg/h, never above 25 mg/h, 4 h.
    // 80 kg × 0.35 mg/kg/h = 28 mg/h > 25 mg/h → 25 mg/h.
    // At 10 mg/mL: 2.5 mL/h. Over 4 h: 100 mg, 10 mL. 25 ÷ 80 = 0.3125 mg/kg/h;
    // 100 ÷ 80 = 1.25 mg/kg per session.
    let protocol = seeded_protocol("crps-outpatient-10-day").expect("seeded");
    let dose = calc(&protocol, 80.0, 10.0).expect("within ceilings");
    let CalculatedStep::Infusion {
        rate,
        rate_per_kg,
        pump_rate,
        duration,
        amount,
        volume,
        ..
    } = only_step(&dose)
    else {
        panic!("infusion expected");
    };
    assert_close(rate.value(), 25.0, "mg/h");
    assert_close(rate_per_kg.value(), 0.3125, "mg/kg/h");
    assert_close(pump_rate.value(), 2.5, "mL/h");
    assert_close(duration.value(), 240.0, "min");
    assert_close(amount.value(), 100.0, "mg");
    assert_close(volume.value(), 10.0, "mL");
    assert_close(dose.total_per_kg.value(), 1.25, "mg/kg");
    assert!(dose.notes.iter().any(|n| matches!(
        n,
        DoseNote::ProtocolRateCapApplied { uncapped, cap, .. }
            if (uncapped.value() - 28.0).abs() < 1e-9 && cap.value() == 25.0
    )));
    assert!(dose.overrides_applied.is_empty());
}

#[test]
fn crps_protocol_60_kg_is_below_the_cap() {
    // 60 kg × 0.35 = 21 mg/h (< 25); at 50 mg/mL: 0.42 mL/h → 0.4 mL/h at 0.1 mL/h
    // = 20 mg/h; 4 h → 80 mg, 1.6 mL.
    let protocol = seeded_protocol("crps-outpatient-10-day").expect("seeded");
    let dose = calc(&protocol, 60.0, 50.0).expect("within ceilings");
    let CalculatedStep::Infusion {
        rate,
        pump_rate,
        amount,
        volume,
        ..
    } = only_step(&dose)
    else {
        panic!("infusion expected");
    };
    assert_close(pump_rate.value(), 0.4, "mL/h");
    assert_close(rate.value(), 20.0, "mg/h");
    assert_close(amount.value(), 80.0, "mg");
    assert_close(volume.value(), 1.6, "mL");
    // Same at 100 mg/mL: 0.21 mL/h → 0.2 mL/h = 20 mg/h.
    let dose = calc(&protocol, 60.0, 100.0).expect("within ceilings");
    assert_close(dose.total.value(), 80.0, "mg at 100 mg/mL");
}

#[test]
fn infusion_shows_mg_mg_per_kg_ml_and_ml_per_hour() {
    // 70 kg × 0.5 mg/kg/h = 35 mg/h; at 50 mg/mL = 0.7 mL/h; 120 min → 70 mg, 1.4 mL;
    // 70 mg ÷ 70 kg = 1 mg/kg.
    let dose = calc(&custom(vec![infusion(0.5, 120.0)]), 70.0, 50.0).expect("within ceilings");
    let CalculatedStep::Infusion {
        rate,
        rate_per_kg,
        pump_rate,
        amount,
        volume,
        ..
    } = only_step(&dose)
    else {
        panic!("infusion expected");
    };
    assert_close(rate.value(), 35.0, "mg/h");
    assert_close(rate_per_kg.value(), 0.5, "mg/kg/h");
    assert_close(pump_rate.value(), 0.7, "mL/h");
    assert_close(amount.value(), 70.0, "mg");
    assert_close(volume.value(), 1.4, "mL");
    assert_close(dose.total_per_kg.value(), 1.0, "mg/kg");
    assert_close(dose.duration.value(), 120.0, "min");
}

#[test]
fn bolus_then_infusion_totals() {
    // 70 kg: bolus 0.2 mg/kg = 14 mg = 1.4 mL at 10 mg/mL;
    // infusion 0.5 mg/kg/h = 35 mg/h = 3.5 mL/h for 180 min = 105 mg, 10.5 mL.
    // Total 119 mg (1.7 mg/kg), 11.9 mL, 182 min.
    let dose =
        calc(&custom(vec![bolus(0.2), infusion(0.5, 180.0)]), 70.0, 10.0).expect("within ceilings");
    assert_close(dose.total.value(), 119.0, "mg");
    assert_close(dose.total_per_kg.value(), 1.7, "mg/kg");
    assert_close(dose.total_volume.value(), 11.9, "mL");
    assert_close(dose.duration.value(), 182.0, "min");
}

#[test]
fn rounding_to_pump_resolution() {
    // 73 kg × 0.4 mg/kg/h = 29.2 mg/h; at 50 mg/mL = 0.584 mL/h.
    let protocol = custom(vec![infusion(0.4, 60.0)]);
    // Pump 0.1 mL/h → 0.6 mL/h = 30 mg/h.
    let dose = calc(&protocol, 73.0, 50.0).expect("ok");
    let CalculatedStep::Infusion {
        pump_rate, rate, ..
    } = only_step(&dose)
    else {
        panic!("infusion expected");
    };
    assert_close(pump_rate.value(), 0.6, "mL/h at 0.1");
    assert_close(rate.value(), 30.0, "mg/h at 0.1");
    // Pump 0.01 mL/h → 0.58 mL/h = 29 mg/h.
    let mut fine = settings();
    fine.pump.rate_resolution = MlPerHour::new(0.01).expect("valid");
    let dose = calculate_session(&protocol, &body(73.0), vial(50.0), &fine, &[]).expect("ok");
    let CalculatedStep::Infusion {
        pump_rate, rate, ..
    } = only_step(&dose)
    else {
        panic!("infusion expected");
    };
    assert_close(pump_rate.value(), 0.58, "mL/h at 0.01");
    assert_close(rate.value(), 29.0, "mg/h at 0.01");
    // Pump 1 mL/h at 10 mg/mL: 2.92 mL/h → 3 mL/h = 30 mg/h.
    let mut coarse = settings();
    coarse.pump.rate_resolution = MlPerHour::new(1.0).expect("valid");
    let dose = calculate_session(&protocol, &body(73.0), vial(10.0), &coarse, &[]).expect("ok");
    assert_close(dose.total.value(), 30.0, "mg at 1 mL/h");
}

#[test]
fn rounding_never_crosses_a_ceiling() {
    // 71 kg × 1.0 mg/kg/h = 71 mg/h; at 100 mg/mL = 0.71 mL/h → nearest 0.7 (70 mg/h):
    // below. 69 kg × 1.0 = 69 mg/h = 0.69 mL/h → nearest 0.7 mL/h = 70 mg/h = 1.014
    // mg/kg/h, above 1 mg/kg/h: rounded down to 0.6 mL/h = 60 mg/h.
    let protocol = custom(vec![infusion(1.0, 60.0)]);
    let dose = calc(&protocol, 69.0, 100.0).expect("rounded under");
    let CalculatedStep::Infusion { pump_rate, .. } = only_step(&dose) else {
        panic!("infusion expected");
    };
    assert_close(pump_rate.value(), 0.6, "mL/h");
    assert!(dose.notes.contains(&DoseNote::RoundedDown { step: 0 }));
}

#[test]
fn devine_ideal_body_weight_worked_examples() {
    // Man, 170 cm: 170 / 2.54 = 66.9291 in; 50 + 2.3 × 6.9291 = 65.937 kg (≈ 65.9).
    let ibw = devine_ideal_body_weight(Centimetres::new(170.0).expect("valid"), Sex::Male)
        .expect("positive");
    assert_close(ibw.value(), 50.0 + 2.3 * (170.0 / 2.54 - 60.0), "formula");
    assert!((ibw.value() - 65.937).abs() < 0.001, "170 cm man: {ibw}");
    // Woman, 160 cm: 160 / 2.54 = 62.9921 in; 45.5 + 2.3 × 2.9921 = 52.382 kg.
    let ibw = devine_ideal_body_weight(Centimetres::new(160.0).expect("valid"), Sex::Female)
        .expect("positive");
    assert!((ibw.value() - 52.382).abs() < 0.001, "160 cm woman: {ibw}");
    // Exactly 5 ft (152.4 cm): the base weights.
    let man = devine_ideal_body_weight(Centimetres::new(152.4).expect("valid"), Sex::Male);
    assert_close(man.expect("positive").value(), 50.0, "5 ft man");
    let woman = devine_ideal_body_weight(Centimetres::new(152.4).expect("valid"), Sex::Female);
    assert_close(woman.expect("positive").value(), 45.5, "5 ft woman");
    // Adjusted: 170 cm man, 100 kg: 65.937 + 0.4 × (100 − 65.937) = 79.562 kg.
    let adjusted = adjusted_body_weight(
        Kilograms::new(100.0).expect("valid"),
        Kilograms::new(65.937).expect("valid"),
    );
    assert_close(adjusted.value(), 65.937 + 0.4 * 34.063, "adjusted");
}

#[test]
fn dosing_weight_bases_in_a_calculation() {
    let mut protocol = custom(vec![bolus(0.3)]);
    let mut fine = settings();
    fine.pump.volume_resolution = Millilitres::new(0.001).expect("valid");
    let patient = body_with_height(100.0, 170.0, Sex::Male);
    // Ideal: 0.3 × 65.937 = 19.781 mg (to 0.001 mL at 10 mg/mL: 1.978 mL = 19.78 mg).
    protocol.weight_basis = DosingWeightBasis::Ideal;
    let dose = calculate_session(&protocol, &patient, vial(10.0), &fine, &[]).expect("ok");
    assert!((dose.dosing_weight.weight.value() - 65.937).abs() < 0.001);
    assert!((dose.total.value() - 19.78).abs() < 0.005, "{}", dose.total);
    // Adjusted: 0.3 × 79.562 = 23.869 mg.
    protocol.weight_basis = DosingWeightBasis::Adjusted;
    let dose = calculate_session(&protocol, &patient, vial(10.0), &fine, &[]).expect("ok");
    assert!((dose.dosing_weight.weight.value() - 79.562).abs() < 0.001);
    assert!(
        (dose.total.value() - 23.869).abs() < 0.005,
        "{}",
        dose.total
    );
    // A 60 kg man of 170 cm is lighter than his IBW: actual weight is used.
    protocol.weight_basis = DosingWeightBasis::Ideal;
    let light = body_with_height(60.0, 170.0, Sex::Male);
    let dose = calculate_session(&protocol, &light, vial(10.0), &fine, &[]).expect("ok");
    assert_close(dose.dosing_weight.weight.value(), 60.0, "limited to actual");
    assert!(dose.notes.contains(&DoseNote::DosingWeightLimitedToActual));
    // Below 5 ft the formula is extrapolated, and said so: 150 cm woman =
    // 45.5 + 2.3 × (59.055 − 60) = 43.327 kg.
    let short = body_with_height(70.0, 150.0, Sex::Female);
    let dose = calculate_session(&protocol, &short, vial(10.0), &fine, &[]).expect("ok");
    assert!((dose.dosing_weight.weight.value() - 43.327).abs() < 0.001);
    assert!(dose.notes.contains(&DoseNote::HeightBelowDevineRange));
}

#[test]
fn first_trial_target_is_reported() {
    // Cohen 2018: at least 80 mg over more than 2 h.
    let guideline = seeded_protocol("first-trial-guideline").expect("seeded");
    assert_eq!(
        calc(&guideline, 70.0, 10.0),
        Err(DosingError::ProtocolHasNoSteps {
            id: "first-trial-guideline".into()
        })
    );
    let mut written = guideline.clone();
    // 70 kg × 0.5 mg/kg/h = 35 mg/h × 2.5 h = 87.5 mg over 150 min: met.
    written.steps = vec![infusion(0.5, 150.0)];
    let dose = calc(&written, 70.0, 10.0).expect("ok");
    assert!(dose
        .notes
        .iter()
        .any(|n| matches!(n, DoseNote::TrialTarget { met: true, .. })));
    // 35 mg/h × 2 h = 70 mg over exactly 120 min: neither part met.
    written.steps = vec![infusion(0.5, 120.0)];
    let dose = calc(&written, 70.0, 10.0).expect("ok");
    assert!(dose
        .notes
        .iter()
        .any(|n| matches!(n, DoseNote::TrialTarget { met: false, .. })));
}

// ---------- ceilings just under, at and just over ----------

#[test]
fn bolus_ceiling() {
    // 100 kg, 10 mg/mL, so every dose lands on a 0.1 mL step.
    // 0.34 mg/kg = 34 mg: under; 0.35 = 35 mg: at the ceiling, allowed; 0.36 = 36 mg: over.
    assert!(calc(&custom(vec![bolus(0.34)]), 100.0, 10.0).is_ok());
    assert!(calc(&custom(vec![bolus(0.35)]), 100.0, 10.0).is_ok());
    let over = breaches(calc(&custom(vec![bolus(0.36)]), 100.0, 10.0));
    assert_eq!(ceilings_of(&over), [Ceiling::BolusPerKg]);
    assert_eq!(over[0].step, Some(0));
    assert_eq!(
        over[0].limit,
        LimitValue::MgPerKg(MgPerKg::new(0.35).expect("valid"))
    );
    assert!(!over[0].beyond_override);
}

#[test]
fn infusion_rate_per_kg_ceiling() {
    // 70 kg, 60 min, 10 mg/mL: 0.99 mg/kg/h = 69.3 mg/h → 6.9 mL/h: under;
    // 1.0 = 70 mg/h = 7.0 mL/h: at; 1.01 = 70.7 mg/h → 7.1 mL/h = 71 mg/h
    // = 1.014 mg/kg/h: over.
    assert!(calc(&custom(vec![infusion(0.99, 60.0)]), 70.0, 10.0).is_ok());
    assert!(calc(&custom(vec![infusion(1.0, 60.0)]), 70.0, 10.0).is_ok());
    let over = breaches(calc(&custom(vec![infusion(1.01, 60.0)]), 70.0, 10.0));
    assert_eq!(ceilings_of(&over), [Ceiling::InfusionRatePerKg]);
}

#[test]
fn infusion_rate_absolute_ceiling() {
    // 112 kg, 60 min, 10 mg/mL: 0.89 mg/kg/h = 99.68 mg/h → 10.0 mL/h = 100 mg/h: at;
    // 0.9 mg/kg/h = 100.8 mg/h → 10.1 mL/h = 101 mg/h: over 100 mg/h (0.902 mg/kg/h
    // is under the per-kg ceiling); 0.85 = 95.2 mg/h → 9.5 mL/h: under.
    assert!(calc(&custom(vec![infusion(0.85, 60.0)]), 112.0, 10.0).is_ok());
    assert!(calc(&custom(vec![infusion(0.89, 60.0)]), 112.0, 10.0).is_ok());
    let over = breaches(calc(&custom(vec![infusion(0.9, 60.0)]), 112.0, 10.0));
    assert_eq!(ceilings_of(&over), [Ceiling::InfusionRateAbsolute]);
    match over[0].value {
        LimitValue::MgPerHour(v) => assert_close(v.value(), 101.0, "delivered mg/h"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn session_per_kg_ceiling() {
    // 70 kg, 0.5 mg/kg/h = 35 mg/h (3.5 mL/h at 10 mg/mL):
    // 235 min = 137.08 mg (1.958 mg/kg): under; 240 min = 140 mg = 2 mg/kg: at;
    // 250 min = 145.83 mg = 2.083 mg/kg: over (and under 200 mg).
    assert!(calc(&custom(vec![infusion(0.5, 235.0)]), 70.0, 10.0).is_ok());
    assert!(calc(&custom(vec![infusion(0.5, 240.0)]), 70.0, 10.0).is_ok());
    let over = breaches(calc(&custom(vec![infusion(0.5, 250.0)]), 70.0, 10.0));
    assert_eq!(ceilings_of(&over), [Ceiling::SessionPerKg]);
    assert_eq!(over[0].step, None);
}

#[test]
fn session_absolute_ceiling() {
    // 120 kg (2 mg/kg = 240 mg, so 200 mg is the lower): 0.5 mg/kg/h = 60 mg/h:
    // 199 min = 199 mg: under; 200 min = 200 mg: at; 201 min = 201 mg: over.
    assert!(calc(&custom(vec![infusion(0.5, 199.0)]), 120.0, 10.0).is_ok());
    let at = calc(&custom(vec![infusion(0.5, 200.0)]), 120.0, 10.0).expect("at the ceiling");
    assert!(at.ceilings.contains(&(
        Ceiling::SessionAbsolute,
        LimitValue::Milligrams(Milligrams::new(200.0).expect("valid"))
    )));
    let over = breaches(calc(&custom(vec![infusion(0.5, 201.0)]), 120.0, 10.0));
    assert_eq!(ceilings_of(&over), [Ceiling::SessionAbsolute]);
}

#[test]
fn every_breach_is_reported_at_once() {
    // 150 kg × 1.2 mg/kg/h = 180 mg/h for 120 min = 360 mg = 2.4 mg/kg, plus a bolus of
    // 0.5 mg/kg = 75 mg: five ceilings exceeded.
    let over = breaches(calc(
        &custom(vec![bolus(0.5), infusion(1.2, 120.0)]),
        150.0,
        10.0,
    ));
    assert_eq!(
        ceilings_of(&over),
        [
            Ceiling::BolusPerKg,
            Ceiling::InfusionRatePerKg,
            Ceiling::InfusionRateAbsolute,
            Ceiling::SessionPerKg,
            Ceiling::SessionAbsolute
        ]
    );
    let message = DosingError::CeilingsExceeded(over).to_string();
    assert!(message.contains("bolus per kg"), "{message}");
}

// ---------- overrides ----------

#[test]
fn override_lets_a_clinician_exceed_a_ceiling_and_is_recorded() {
    // 60 kg × 1.5 mg/kg/h = 90 mg/h (9.0 mL/h), 60 min = 90 mg = 1.5 mg/kg.
    let protocol = custom(vec![infusion(1.5, 60.0)]);
    let without = breaches(calc(&protocol, 60.0, 10.0));
    assert_eq!(ceilings_of(&without), [Ceiling::InfusionRatePerKg]);

    let granted = dr_override(
        Ceiling::InfusionRatePerKg,
        LimitValue::MgPerKgPerHour(MgPerKgPerHour::new(1.5).expect("valid")),
    );
    let dose = calculate_session(
        &protocol,
        &body(60.0),
        vial(10.0),
        &settings(),
        std::slice::from_ref(&granted),
    )
    .expect("overridden");
    assert_close(dose.total.value(), 90.0, "mg");
    assert_eq!(dose.overrides_applied.len(), 1);
    let applied = &dose.overrides_applied[0];
    assert_eq!(applied.granted, granted);
    assert_eq!(applied.granted.clinician_id(), "clinician-17");
    assert!(!applied.granted.reason().is_empty());
    assert_eq!(applied.step, Some(0));
    assert_eq!(
        applied.ceiling_limit,
        LimitValue::MgPerKgPerHour(MgPerKgPerHour::new(1.0).expect("valid"))
    );
    match applied.value {
        LimitValue::MgPerKgPerHour(v) => assert_close(v.value(), 1.5, "value"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn override_not_needed_is_not_recorded() {
    let granted = dr_override(
        Ceiling::SessionAbsolute,
        LimitValue::Milligrams(Milligrams::new(250.0).expect("valid")),
    );
    let dose = calculate_session(
        &custom(vec![infusion(0.5, 60.0)]),
        &body(70.0),
        vial(10.0),
        &settings(),
        &[granted],
    )
    .expect("ok");
    assert!(dose.overrides_applied.is_empty());
}

#[test]
fn override_has_its_own_limit() {
    // Raised to 1.2 mg/kg/h but 1.5 mg/kg/h asked: still a breach, against 1.2.
    let granted = dr_override(
        Ceiling::InfusionRatePerKg,
        LimitValue::MgPerKgPerHour(MgPerKgPerHour::new(1.2).expect("valid")),
    );
    let result = calculate_session(
        &custom(vec![infusion(1.5, 60.0)]),
        &body(60.0),
        vial(10.0),
        &settings(),
        &[granted],
    );
    let over = breaches(result);
    assert_eq!(ceilings_of(&over), [Ceiling::InfusionRatePerKg]);
    assert!(over[0].beyond_override);
    assert_eq!(
        over[0].limit,
        LimitValue::MgPerKgPerHour(MgPerKgPerHour::new(1.2).expect("valid"))
    );
}

#[test]
fn override_requires_clinician_and_reason() {
    let limit = LimitValue::MgPerKgPerHour(MgPerKgPerHour::new(1.5).expect("valid"));
    assert_eq!(
        ClinicianOverride::new(Ceiling::InfusionRatePerKg, limit, "clinician-17", ""),
        Err(OverrideError::MissingReason)
    );
    assert_eq!(
        ClinicianOverride::new(Ceiling::InfusionRatePerKg, limit, "clinician-17", "   \n"),
        Err(OverrideError::MissingReason)
    );
    assert_eq!(
        ClinicianOverride::new(Ceiling::InfusionRatePerKg, limit, " ", "reason"),
        Err(OverrideError::MissingClinicianId)
    );
    // A limit in the wrong unit: mg/h for a mg/kg/h ceiling.
    assert_eq!(
        ClinicianOverride::new(
            Ceiling::InfusionRatePerKg,
            LimitValue::MgPerHour(MgPerHour::new(150.0).expect("valid")),
            "clinician-17",
            "reason"
        ),
        Err(OverrideError::UnitMismatch {
            ceiling: Ceiling::InfusionRatePerKg,
            expected: "mg/kg/h",
            found: "mg/h"
        })
    );
}

#[test]
fn override_limits() {
    let protocol = custom(vec![infusion(0.5, 60.0)]);
    let run = |overrides: &[ClinicianOverride]| {
        calculate_session(&protocol, &body(70.0), vial(10.0), &settings(), overrides)
    };
    // Above 2 mg/kg/h: never outpatient (Cohen 2018; 7 mg/kg/h only in ICU).
    let too_high = dr_override(
        Ceiling::InfusionRatePerKg,
        LimitValue::MgPerKgPerHour(MgPerKgPerHour::new(2.5).expect("valid")),
    );
    assert!(matches!(
        run(&[too_high]),
        Err(DosingError::OverrideBeyondMaximum {
            ceiling: Ceiling::InfusionRatePerKg,
            ..
        })
    ));
    // An "override" that does not raise the ceiling.
    let lower = dr_override(
        Ceiling::BolusPerKg,
        LimitValue::MgPerKg(MgPerKg::new(0.3).expect("valid")),
    );
    assert!(matches!(
        run(&[lower]),
        Err(DosingError::OverrideDoesNotRaise {
            ceiling: Ceiling::BolusPerKg,
            ..
        })
    ));
    // Two for one ceiling.
    let a = dr_override(
        Ceiling::SessionAbsolute,
        LimitValue::Milligrams(Milligrams::new(250.0).expect("valid")),
    );
    let b = dr_override(
        Ceiling::SessionAbsolute,
        LimitValue::Milligrams(Milligrams::new(300.0).expect("valid")),
    );
    assert_eq!(
        run(&[a, b]),
        Err(DosingError::DuplicateOverride {
            ceiling: Ceiling::SessionAbsolute
        })
    );
}

// ---------- bad input ----------

#[test]
fn impossible_weights_and_heights_are_typed_errors() {
    let s = settings();
    let weight = |kg: f64| PatientBody::new(kg, None, None, &s).map(|_| ());
    assert_eq!(
        weight(0.0),
        Err(DosingError::Quantity(QuantityError::NotPositive {
            quantity: "weight (kg)",
            value: 0.0
        }))
    );
    assert_eq!(
        weight(-70.0),
        Err(DosingError::Quantity(QuantityError::Negative {
            quantity: "weight (kg)",
            value: -70.0
        }))
    );
    assert!(matches!(
        weight(f64::NAN),
        Err(DosingError::Quantity(QuantityError::NotFinite { .. }))
    ));
    assert!(matches!(
        weight(f64::INFINITY),
        Err(DosingError::Quantity(QuantityError::NotFinite { .. }))
    ));
    assert!(matches!(
        weight(700.0),
        Err(DosingError::ImplausibleWeight { .. })
    ));
    assert!(matches!(
        weight(12.0),
        Err(DosingError::ImplausibleWeight { .. })
    ));
    assert!(
        weight(30.0).is_ok() && weight(300.0).is_ok(),
        "range is inclusive"
    );

    let height = |cm: f64| PatientBody::new(70.0, Some(cm), Some(Sex::Male), &s).map(|_| ());
    assert!(matches!(
        height(0.0),
        Err(DosingError::Quantity(QuantityError::NotPositive { .. }))
    ));
    assert!(matches!(
        height(f64::NAN),
        Err(DosingError::Quantity(QuantityError::NotFinite { .. }))
    ));
    assert!(matches!(
        height(400.0),
        Err(DosingError::ImplausibleHeight { .. })
    ));
}

#[test]
fn impossible_quantities_are_typed_errors() {
    assert!(matches!(
        Minutes::new(0.0),
        Err(QuantityError::NotPositive { .. })
    ));
    assert!(matches!(
        Minutes::new(-30.0),
        Err(QuantityError::Negative { .. })
    ));
    assert!(matches!(
        Minutes::new(f64::NAN),
        Err(QuantityError::NotFinite { .. })
    ));
    assert!(matches!(
        MgPerMl::new(0.0),
        Err(QuantityError::NotPositive { .. })
    ));
    assert!(matches!(
        MgPerKg::new(-0.1),
        Err(QuantityError::Negative { .. })
    ));
    assert!(matches!(
        MgPerKgPerHour::new(f64::INFINITY),
        Err(QuantityError::NotFinite { .. })
    ));
    assert!(matches!(
        Milligrams::new(f64::NEG_INFINITY),
        Err(QuantityError::NotFinite { .. })
    ));
}

#[test]
fn unit_mismatches_are_typed_errors() {
    assert_eq!(
        Milligrams::from_ucum(500.0, "ug"),
        Err(QuantityError::UnitMismatch {
            quantity: "amount (mg)",
            expected: "mg",
            found: "ug".into()
        })
    );
    assert!(matches!(
        MgPerKgPerHour::from_ucum(0.35, "mg/kg/min"),
        Err(QuantityError::UnitMismatch {
            expected: "mg/kg/h",
            ..
        })
    ));
    assert!(matches!(
        MgPerHour::from_ucum(25.0, "mg/min"),
        Err(QuantityError::UnitMismatch { .. })
    ));
    assert!(matches!(
        MgPerKg::from_ucum(0.35, "mg"),
        Err(QuantityError::UnitMismatch { .. })
    ));
    // The right unit parses, and µg convert to mg only explicitly: 500 µg = 0.5 mg.
    let micrograms = Micrograms::from_ucum(500.0, "ug").expect("valid");
    assert_close(micrograms.to_milligrams().value(), 0.5, "µg → mg");
    assert_close(
        Milligrams::new(0.5).expect("valid").to_micrograms().value(),
        500.0,
        "mg → µg",
    );
    assert_close(
        MgPerMl::from_ucum(50.0, "mg/mL").expect("valid").value(),
        50.0,
        "mg/mL",
    );
}

#[test]
fn mixing_racemic_and_s_ketamine_is_an_error() {
    let esketamine_vial = Vial {
        drug: KetamineForm::Esketamine,
        concentration: MgPerMl::new(25.0).expect("valid"),
    };
    let crps = seeded_protocol("crps-outpatient-10-day").expect("seeded");
    assert_eq!(
        calculate_session(&crps, &body(70.0), esketamine_vial, &settings(), &[]),
        Err(DosingError::MixedKetamineForms {
            protocol: KetamineForm::Racemic,
            vial: KetamineForm::Esketamine
        })
    );
    let sigtermans = seeded_protocol("crps-continuous-esketamine").expect("seeded");
    assert_eq!(
        calc(&sigtermans, 70.0, 10.0),
        Err(DosingError::MixedKetamineForms {
            protocol: KetamineForm::Esketamine,
            vial: KetamineForm::Racemic
        })
    );
}

#[test]
fn other_impossible_orders_are_typed_errors() {
    // Reference-only protocols are not calculated.
    let mut noppers = seeded_protocol("fibromyalgia-esketamine-evidence").expect("seeded");
    let esketamine_vial = Vial {
        drug: KetamineForm::Esketamine,
        concentration: MgPerMl::new(25.0).expect("valid"),
    };
    assert_eq!(
        calculate_session(&noppers, &body(70.0), esketamine_vial, &settings(), &[]),
        Err(DosingError::ProtocolReferenceOnly {
            id: "fibromyalgia-esketamine-evidence".into()
        })
    );
    noppers.usage = ProtocolUse::Orderable;
    // Noppers 2011: 0.5 mg/kg over 30 min = 1 mg/kg/h; 70 kg → 70 mg/h, 35 mg.
    let dose = calculate_session(&noppers, &body(70.0), esketamine_vial, &settings(), &[])
        .expect("orderable copy");
    assert_close(dose.total.value(), 35.0, "mg");

    // Ideal weight needs height and sex.
    let mut ideal = custom(vec![bolus(0.2)]);
    ideal.weight_basis = DosingWeightBasis::Ideal;
    assert_eq!(
        calc(&ideal, 70.0, 10.0),
        Err(DosingError::HeightAndSexRequired {
            basis: DosingWeightBasis::Ideal
        })
    );
    // Steps longer than the session.
    let mut long = custom(vec![infusion(0.5, 90.0)]);
    long.session_length = Some(minutes(60.0));
    assert!(matches!(
        calc(&long, 70.0, 10.0),
        Err(DosingError::StepsLongerThanSession { .. })
    ));
    // A rate that rounds to nothing at the pump: 0.001 mg/kg/h × 70 kg = 0.07 mg/h =
    // 0.0007 mL/h at 100 mg/mL.
    assert_eq!(
        calc(&custom(vec![infusion(0.001, 60.0)]), 70.0, 100.0),
        Err(DosingError::RoundsToZero { step: 1 })
    );
    // A pump resolution of zero.
    let mut broken = settings();
    broken.pump.rate_resolution = MlPerHour::new(0.0).expect("zero is a valid rate");
    assert_eq!(
        calculate_session(
            &custom(vec![infusion(0.5, 60.0)]),
            &body(70.0),
            vial(10.0),
            &broken,
            &[]
        ),
        Err(DosingError::SettingNotPositive {
            setting: "pump.rate_resolution"
        })
    );
    // The protocol's own session cap (Schwartzman: ≤ 100 mg).
    let mut capped = custom(vec![infusion(0.5, 240.0)]);
    capped.session_cap = Some(Milligrams::new(100.0).expect("valid"));
    assert!(matches!(
        calc(&capped, 70.0, 10.0),
        Err(DosingError::ProtocolSessionCapExceeded { .. })
    ));
}

#[test]
fn series_schedule() {
    // Schwartzman 2009: 10 daily sessions.
    let crps = seeded_protocol("crps-outpatient-10-day").expect("seeded");
    let first = date(2025, 3, 3);
    assert_eq!(check_next_session(&crps, &[], first), Ok(()));
    assert_eq!(
        check_next_session(&crps, &[first], date(2025, 3, 4)),
        Ok(())
    );
    assert_eq!(
        check_next_session(&crps, &[first], first),
        Err(DosingError::GapTooShort {
            days: 0,
            minimum: 1
        })
    );
    assert_eq!(
        check_next_session(&crps, &[date(2025, 3, 5)], date(2025, 3, 4)),
        Err(DosingError::SessionBeforePrevious)
    );
    let ten: Vec<_> = (0..10).map(|d| date(2025, 3, 3 + d)).collect();
    assert_eq!(
        check_next_session(&crps, &ten, date(2025, 3, 20)),
        Err(DosingError::SeriesComplete {
            done: 10,
            per_series: 10
        })
    );
}

#[test]
fn seeded_library_matches_dosing_md() {
    let protocols = seeded_protocols();
    assert_eq!(protocols.len(), 5);
    for p in &protocols {
        assert!(!p.source.trim().is_empty(), "{}", p.id);
        assert!(!p.evidence.source.trim().is_empty(), "{}", p.id);
        // Every literal in the table is a valid quantity.
        for step in &p.steps {
            match *step {
                ProtocolStep::Bolus { dose, over } => {
                    assert!(
                        MgPerKg::new(dose.value()).is_ok() && Minutes::new(over.value()).is_ok()
                    );
                }
                ProtocolStep::Infusion { rate, duration } => {
                    assert!(MgPerKgPerHour::new(rate.value()).is_ok());
                    assert!(Minutes::new(duration.value()).is_ok());
                }
            }
        }
    }
    let crps = seeded_protocol("crps-outpatient-10-day").expect("seeded");
    assert_eq!(crps.drug, KetamineForm::Racemic);
    assert_eq!(crps.steps, vec![infusion(0.35, 240.0)]);
    assert_eq!(crps.rate_cap, Some(MgPerHour::new(25.0).expect("valid")));
    assert_eq!(crps.sessions_per_series, Some(10));
    assert_eq!(crps.evidence.grade, Some('B'));
    for id in [
        "crps-continuous-esketamine",
        "fibromyalgia-esketamine-evidence",
    ] {
        let p = seeded_protocol(id).expect("seeded");
        assert_eq!(p.drug, KetamineForm::Esketamine, "{id}");
        assert_eq!(p.usage, ProtocolUse::ReferenceOnly, "{id}");
    }
    let d = DosingSettings::default();
    assert_eq!(d.bolus_ceiling, MgPerKg::new(0.35).expect("valid"));
    assert_eq!(
        d.rate_ceiling_per_kg,
        MgPerKgPerHour::new(1.0).expect("valid")
    );
    assert_eq!(
        d.rate_ceiling_absolute,
        MgPerHour::new(100.0).expect("valid")
    );
    assert_eq!(d.session_ceiling_per_kg, MgPerKg::new(2.0).expect("valid"));
    assert_eq!(
        d.session_ceiling_absolute,
        Milligrams::new(200.0).expect("valid")
    );
    assert_eq!(d.pump.rate_resolution, MlPerHour::new(0.1).expect("valid"));
}

#[test]
fn quantities_display_with_units() {
    assert_eq!(Milligrams::new(24.5).expect("valid").to_string(), "24.5 mg");
    assert_eq!(MgPerKg::new(0.35).expect("valid").to_string(), "0.35 mg/kg");
    assert_eq!(MlPerHour::new(2.0).expect("valid").to_string(), "2 mL/h");
    assert_eq!(Micrograms::new(500.0).expect("valid").to_string(), "500 µg");
}

// ---------- property tests ----------

fn within(value: f64, limit: f64) -> bool {
    value <= limit * (1.0 + 1e-9)
}

/// No delivered value above a clinic ceiling unless an applied override covers it.
fn assert_under_ceilings(dose: &SessionDose, s: &DosingSettings) {
    let covered = |c: Ceiling| {
        dose.overrides_applied
            .iter()
            .any(|o| o.granted.ceiling() == c)
    };
    let kg = dose.dosing_weight.weight.value();
    for step in &dose.steps {
        match *step {
            CalculatedStep::Bolus { dose_per_kg, .. } => {
                assert!(
                    within(dose_per_kg.value(), s.bolus_ceiling.value())
                        || covered(Ceiling::BolusPerKg)
                );
            }
            CalculatedStep::Infusion {
                rate, rate_per_kg, ..
            } => {
                assert!(
                    within(rate_per_kg.value(), s.rate_ceiling_per_kg.value())
                        || covered(Ceiling::InfusionRatePerKg)
                );
                assert!(
                    within(rate.value(), s.rate_ceiling_absolute.value())
                        || covered(Ceiling::InfusionRateAbsolute)
                );
            }
        }
    }
    assert!(
        within(dose.total.value(), s.session_ceiling_absolute.value())
            || covered(Ceiling::SessionAbsolute)
    );
    assert!(
        within(dose.total.value() / kg, s.session_ceiling_per_kg.value())
            || covered(Ceiling::SessionPerKg)
    );
    for applied in &dose.overrides_applied {
        let raised = match applied.granted.raised_limit() {
            LimitValue::MgPerKg(v) => v.value(),
            LimitValue::MgPerKgPerHour(v) => v.value(),
            LimitValue::MgPerHour(v) => v.value(),
            LimitValue::Milligrams(v) => v.value(),
        };
        let value = match applied.value {
            LimitValue::MgPerKg(v) => v.value(),
            LimitValue::MgPerKgPerHour(v) => v.value(),
            LimitValue::MgPerHour(v) => v.value(),
            LimitValue::Milligrams(v) => v.value(),
        };
        assert!(within(value, raised), "override exceeded: {applied:?}");
    }
}

fn any_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -10.0..400.0f64,
        1 => Just(0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(-f64::INFINITY),
        1 => any::<f64>(),
    ]
}

/// One order as a clinician might type it: mostly plausible numbers, some anything at all.
#[derive(Debug, Clone)]
struct RandomOrder {
    weight: f64,
    height: Option<f64>,
    male: bool,
    basis: DosingWeightBasis,
    bolus_dose: Option<f64>,
    rate: f64,
    duration: f64,
    concentration: f64,
    resolution: f64,
    rate_cap: Option<f64>,
}

fn random_order() -> impl Strategy<Value = RandomOrder> {
    (
        // Mostly plausible adults (the defaults accept 30–300 kg, 120–230 cm), sometimes anything.
        prop_oneof![4 => 40.0..160.0f64, 1 => any_number()],
        prop_oneof![
            1 => Just(None),
            4 => (125.0..225.0f64).prop_map(Some),
            1 => (100.0..240.0f64).prop_map(Some),
        ],
        any::<bool>(),
        prop_oneof![
            Just(DosingWeightBasis::Actual),
            Just(DosingWeightBasis::Ideal),
            Just(DosingWeightBasis::Adjusted),
        ],
        // Boluses up to 0.5 mg/kg (ceiling 0.35), rates up to 1.2 mg/kg/h (ceiling 1.0) for up to
        // 3 h (session ceilings 2 mg/kg and 200 mg): about a third orderable, a third over a
        // ceiling, the rest refused for a reason of their own; sometimes anything at all.
        prop_oneof![Just(None), (0.0..0.5f64).prop_map(Some)],
        prop_oneof![4 => 0.1..1.2f64, 1 => any_number()],
        prop_oneof![4 => 10.0..180.0f64, 1 => any_number()],
        prop_oneof![Just(10.0), Just(50.0), Just(100.0), 0.5..200.0f64],
        prop_oneof![4 => Just(0.1), 1 => Just(0.01), 1 => Just(1.0)],
        prop_oneof![Just(None), (1.0..200.0f64).prop_map(Some)],
    )
        .prop_map(
            |(
                weight,
                height,
                male,
                basis,
                bolus_dose,
                rate,
                duration,
                concentration,
                resolution,
                rate_cap,
            )| {
                RandomOrder {
                    weight,
                    height,
                    male,
                    basis,
                    bolus_dose,
                    rate,
                    duration,
                    concentration,
                    resolution,
                    rate_cap,
                }
            },
        )
}

/// What became of the generated orders: the property is only worth something if many of them
/// reach a calculated dose.
#[derive(Debug, Default)]
struct Outcomes {
    calculated: u32,
    patient_refused: u32,
    over_a_ceiling: u32,
    otherwise_refused: u32,
}

/// The property for one order: a calculated dose is under every ceiling (no override was given)
/// and finite, and a refusal over a ceiling names at least one breach. Records what happened in
/// `outcomes`.
fn check_random_order(order: &RandomOrder, outcomes: &mut Outcomes) -> Result<(), TestCaseError> {
    let mut s = DosingSettings::default();
    if let Ok(r) = MlPerHour::new(order.resolution) {
        s.pump.rate_resolution = r;
    }
    let sex = Some(if order.male { Sex::Male } else { Sex::Female });
    let patient = match PatientBody::new(order.weight, order.height, sex, &s) {
        Ok(patient) => patient,
        Err(_) => {
            outcomes.patient_refused += 1;
            return Ok(());
        }
    };
    let mut steps = Vec::new();
    if let Some(d) = order.bolus_dose {
        if let Ok(dose) = MgPerKg::new(d) {
            steps.push(ProtocolStep::Bolus {
                dose,
                over: minutes(1.0),
            });
        }
    }
    if let (Ok(rate), Ok(duration)) = (
        MgPerKgPerHour::new(order.rate),
        Minutes::new(order.duration),
    ) {
        steps.push(ProtocolStep::Infusion { rate, duration });
    }
    let mut protocol = custom(steps);
    protocol.weight_basis = order.basis;
    protocol.rate_cap = order.rate_cap.and_then(|c| MgPerHour::new(c).ok());
    let v = Vial {
        drug: KetamineForm::Racemic,
        concentration: MgPerMl::new(order.concentration).expect("positive"),
    };
    match calculate_session(&protocol, &patient, v, &s, &[]) {
        Ok(dose) => {
            outcomes.calculated += 1;
            prop_assert!(dose.overrides_applied.is_empty());
            assert_under_ceilings(&dose, &s);
            prop_assert!(dose.total.value().is_finite());
        }
        Err(DosingError::CeilingsExceeded(breaches)) => {
            outcomes.over_a_ceiling += 1;
            prop_assert!(!breaches.is_empty());
        }
        Err(_) => outcomes.otherwise_refused += 1,
    }
    Ok(())
}

/// Random orders never panic nor give a dose over a ceiling. Run by hand rather than by the
/// `proptest!` macro so that the outcomes can be counted across all cases: the property must
/// hold on every case, at least a fifth of the cases must reach a calculated dose and a tenth be
/// stopped by a ceiling (about a third each, five standard deviations clear of flaking), or a
/// calculator that refused everything, or let everything through, would pass.
#[test]
fn random_orders_never_panic_nor_exceed_a_ceiling() {
    const CASES: u32 = 512;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let outcomes = std::cell::RefCell::new(Outcomes::default());
    let result = runner.run(&random_order(), |order| {
        check_random_order(&order, &mut outcomes.borrow_mut())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let outcomes = outcomes.into_inner();
    assert!(
        outcomes.calculated >= CASES / 5,
        "only {} of {CASES} orders reached a calculated dose: {outcomes:?}",
        outcomes.calculated
    );
    assert!(
        outcomes.over_a_ceiling >= CASES / 10,
        "only {} of {CASES} orders were stopped by a ceiling: {outcomes:?}",
        outcomes.over_a_ceiling
    );
}

/// One infusion order with the four raisable ceilings raised by a clinician: rates up to 2.2 mg/kg/h
/// for up to 5 h, raised rate limits up to 2.2 (the maximum an override may set is 2.0): about a
/// fifth reach a dose past a default ceiling, and most of the rest are stopped by a raised ceiling
/// or refused as an override.
#[derive(Debug, Clone)]
struct OverriddenOrder {
    weight: f64,
    rate: f64,
    duration: f64,
    raised_rate: f64,
    raised_session: f64,
    raised_session_per_kg: f64,
    raised_absolute: f64,
}

fn overridden_order() -> impl Strategy<Value = OverriddenOrder> {
    (
        30.0..300.0f64,
        0.0..2.2f64,
        1.0..300.0f64,
        1.0..2.2f64,
        200.0..1000.0f64,
        2.0..10.0f64,
        100.0..400.0f64,
    )
        .prop_map(
            |(
                weight,
                rate,
                duration,
                raised_rate,
                raised_session,
                raised_session_per_kg,
                raised_absolute,
            )| OverriddenOrder {
                weight,
                rate,
                duration,
                raised_rate,
                raised_session,
                raised_session_per_kg,
                raised_absolute,
            },
        )
}

/// What became of the overridden orders.
#[derive(Debug, Default)]
struct OverrideOutcomes {
    calculated_past_a_default_ceiling: u32,
    calculated_within_the_defaults: u32,
    over_a_raised_ceiling: u32,
    override_refused: u32,
}

fn check_overridden_order(
    order: &OverriddenOrder,
    outcomes: &mut OverrideOutcomes,
) -> Result<(), TestCaseError> {
    let s = DosingSettings::default();
    let patient = PatientBody::new(order.weight, None, None, &s).expect("plausible");
    let protocol = custom(vec![infusion(order.rate.max(0.01), order.duration)]);
    let overrides: Vec<ClinicianOverride> = [
        (
            Ceiling::InfusionRatePerKg,
            LimitValue::MgPerKgPerHour(MgPerKgPerHour::new(order.raised_rate).expect("valid")),
        ),
        (
            Ceiling::InfusionRateAbsolute,
            LimitValue::MgPerHour(MgPerHour::new(order.raised_absolute).expect("valid")),
        ),
        (
            Ceiling::SessionAbsolute,
            LimitValue::Milligrams(Milligrams::new(order.raised_session).expect("valid")),
        ),
        (
            Ceiling::SessionPerKg,
            LimitValue::MgPerKg(MgPerKg::new(order.raised_session_per_kg).expect("valid")),
        ),
    ]
    .into_iter()
    .map(|(c, l)| dr_override(c, l))
    .collect();
    match calculate_session(&protocol, &patient, vial(10.0), &s, &overrides) {
        Ok(dose) => {
            assert_under_ceilings(&dose, &s);
            if dose.overrides_applied.is_empty() {
                outcomes.calculated_within_the_defaults += 1;
            } else {
                outcomes.calculated_past_a_default_ceiling += 1;
            }
        }
        Err(DosingError::CeilingsExceeded(breaches)) => {
            outcomes.over_a_raised_ceiling += 1;
            prop_assert!(!breaches.is_empty());
        }
        Err(DosingError::OverrideBeyondMaximum { .. })
        | Err(DosingError::OverrideDoesNotRaise { .. })
        | Err(DosingError::RoundsToZero { .. }) => outcomes.override_refused += 1,
        Err(other) => prop_assert!(false, "unexpected error {other:?}"),
    }
    Ok(())
}

/// Overrides never let a dose past their own raised limit. Counted like
/// `random_orders_never_panic_nor_exceed_a_ceiling`: at least a tenth of the cases must reach a
/// dose that an override let past a default ceiling (the case the property is about), and a
/// tenth be stopped by a raised ceiling.
#[test]
fn overrides_never_let_a_dose_past_their_own_limit() {
    const CASES: u32 = 512;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let outcomes = std::cell::RefCell::new(OverrideOutcomes::default());
    let result = runner.run(&overridden_order(), |order| {
        check_overridden_order(&order, &mut outcomes.borrow_mut())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let outcomes = outcomes.into_inner();
    assert!(
        outcomes.calculated_past_a_default_ceiling >= CASES / 10,
        "only {} of {CASES} orders reached a dose past a default ceiling: {outcomes:?}",
        outcomes.calculated_past_a_default_ceiling
    );
    assert!(
        outcomes.over_a_raised_ceiling >= CASES / 10,
        "only {} of {CASES} orders were stopped by a raised ceiling: {outcomes:?}",
        outcomes.over_a_raised_ceiling
    );
}
