//! Checks anyone can do by hand: a one-compartment model, where a bolus D into V with elimination k
//! gives C(t) = D/V·e^(−kt) (pk-models.md), a constant infusion R gives C = R/(kV)·(1 − e^(−kt)),
//! and the effect site after a bolus is D/V·ke0/(ke0 − k)·(e^(−kt) − e^(−ke0·t)).

use respite_pk::units::{ElapsedMinutes, Litres, MgPerHour, Milligrams, PerMinute, Seconds};
use respite_pk::{simulate_parameters, Dose, DosingPlan, Parameters, SimulationSettings};

const V_LITRES: f64 = 10.0;
const K_PER_MIN: f64 = 0.1;
const KE0_PER_MIN: f64 = 0.5;

fn one_compartment() -> Parameters {
    Parameters {
        v1: Litres(V_LITRES),
        k10: PerMinute(K_PER_MIN),
        k12: PerMinute(0.0),
        k13: PerMinute(0.0),
        k21: PerMinute(0.0),
        k31: PerMinute(0.0),
    }
}

fn plan(doses: Vec<Result<Dose, respite_pk::DoseError>>) -> DosingPlan {
    let doses: Result<Vec<Dose>, _> = doses.into_iter().collect();
    match doses
        .map_err(|e| e.to_string())
        .and_then(|d| DosingPlan::new(d).map_err(|e| e.to_string()))
    {
        Ok(plan) => plan,
        Err(error) => panic!("test plan refused: {error}"),
    }
}

fn check(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs() + 1e-12,
        "{what}: got {got}, by hand {want}"
    );
}

#[test]
fn single_bolus_decays_as_d_over_v_times_e_to_the_minus_kt() {
    let dose_mg = 5.0;
    let plan = plan(vec![Dose::amount(
        ElapsedMinutes::literal(0.0),
        ElapsedMinutes::literal(0.0),
        Milligrams::literal(dose_mg),
    )]);
    let settings = SimulationSettings::new(ElapsedMinutes::literal(60.0), Seconds(30.0));
    let Ok(out) = simulate_parameters(&one_compartment(), PerMinute(KE0_PER_MIN), &plan, &settings)
    else {
        panic!("simulation refused");
    };
    assert_eq!(out.plasma_ng_ml.len(), 121);
    for (k, t) in out.times_min().into_iter().enumerate() {
        // mg/L to ng/mL: × 1000.
        let c0 = dose_mg / V_LITRES * 1000.0;
        check(
            out.plasma_ng_ml[k],
            c0 * (-K_PER_MIN * t).exp(),
            &format!("plasma at {t}"),
        );
        let effect = c0 * KE0_PER_MIN / (KE0_PER_MIN - K_PER_MIN)
            * ((-K_PER_MIN * t).exp() - (-KE0_PER_MIN * t).exp());
        check(out.effect_ng_ml[k], effect, &format!("effect at {t}"));
    }
}

#[test]
fn bolus_at_a_sample_time_is_in_that_sample_and_not_before() {
    let plan = plan(vec![Dose::amount(
        ElapsedMinutes::literal(5.0),
        ElapsedMinutes::literal(0.0),
        Milligrams::literal(2.0),
    )]);
    let settings = SimulationSettings::new(ElapsedMinutes::literal(10.0), Seconds(10.0));
    let Ok(out) = simulate_parameters(&one_compartment(), PerMinute(KE0_PER_MIN), &plan, &settings)
    else {
        panic!("simulation refused");
    };
    // Sample 29 is 4 min 50 s, sample 30 is 5 min exactly.
    assert_eq!(out.plasma_ng_ml[29], 0.0);
    check(
        out.plasma_ng_ml[30],
        2.0 / V_LITRES * 1000.0,
        "plasma at the bolus",
    );
    assert_eq!(out.effect_ng_ml[30], 0.0, "the effect site is continuous");
}

#[test]
fn constant_infusion_rises_as_r_over_kv_times_one_minus_e_to_the_minus_kt() {
    let rate = 30.0; // mg/h
    let plan = plan(vec![Dose::rate(
        ElapsedMinutes::literal(0.0),
        ElapsedMinutes::literal(120.0),
        MgPerHour::literal(rate),
    )]);
    let settings = SimulationSettings::new(ElapsedMinutes::literal(180.0), Seconds(60.0));
    let Ok(out) = simulate_parameters(&one_compartment(), PerMinute(KE0_PER_MIN), &plan, &settings)
    else {
        panic!("simulation refused");
    };
    let steady = rate / 60.0 / (K_PER_MIN * V_LITRES) * 1000.0;
    for (k, t) in out.times_min().into_iter().enumerate() {
        let want = if t <= 120.0 {
            steady * (1.0 - (-K_PER_MIN * t).exp())
        } else {
            steady * (1.0 - (-K_PER_MIN * 120.0).exp()) * (-K_PER_MIN * (t - 120.0)).exp()
        };
        check(out.plasma_ng_ml[k], want, &format!("plasma at {t}"));
    }
}
