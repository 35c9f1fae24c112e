//! A 5-hour session at 1-second resolution (18,001 samples), Domino, 0.35 mg/kg over 1 min then
//! 0.5 mg/kg/h for 4 h, plasma and effect site: the scenario pk-models.md times opentiva on.
//! `bench/pk/run.sh` runs this beside opentiva and prints the ratios.
//!
//! `arithmetic_floor` is the yardstick for "within 4x of the floor": the bare loop of 15 floating
//! point operations per step that the exact solution needs for three compartments and an effect
//! site (6 multiply-adds, 3 adds), written the plain sequential way, writing the same two outputs
//! into reused buffers, with nothing else around it (no ke0, no dose handling, no allocation).

use divan::{black_box, Bencher};
use respite_pk::units::{Centimetres, Kilograms, Milligrams, MilligramsPerHour, Seconds, Years};
use respite_pk::{simulate, simulate_json, Dose, DosingPlan, Minutes, Model, Patient, Sex};
use respite_pk::{simulate_reusing, Concentrations, SimulationSettings};

fn main() {
    divan::main();
}

const SAMPLES: usize = 5 * 3600 + 1;

fn scenario() -> Option<(Patient, DosingPlan, SimulationSettings)> {
    let patient = Patient::new(Kilograms(70.0), Years(40.0), Sex::Male, Centimetres(170.0)).ok()?;
    let plan = DosingPlan::new(vec![
        Dose::amount(Minutes(0.0), Minutes(1.0), Milligrams(24.5)).ok()?,
        Dose::rate(Minutes(1.0), Minutes(240.0), MilligramsPerHour(35.0)).ok()?,
    ])
    .ok()?;
    Some((
        patient,
        plan,
        SimulationSettings::new(Minutes(300.0), Seconds(1.0)),
    ))
}

#[divan::bench]
fn five_hour_session_1s_domino(bencher: Bencher) {
    let Some((patient, plan, settings)) = scenario() else {
        return;
    };
    bencher.bench(|| {
        simulate(
            black_box(Model::Domino),
            black_box(&patient),
            black_box(&plan),
            black_box(&settings),
        )
    });
}

/// The same, many in a row, reusing the output buffers (no allocation, no page faults): what a
/// batch of simulations (a parameter sweep, a population) costs per simulation.
#[divan::bench]
fn five_hour_session_1s_domino_reusing_buffers(bencher: Bencher) {
    let Some((patient, plan, settings)) = scenario() else {
        return;
    };
    let mut buffers = Some(Concentrations::default());
    bencher.bench_local(|| {
        let simulation = simulate_reusing(
            black_box(Model::Domino),
            black_box(&patient),
            black_box(&plan),
            black_box(&settings),
            buffers.take().unwrap_or_default(),
        );
        if let Ok(simulation) = simulation {
            black_box(simulation.concentrations.effect_ng_ml.last());
            buffers = Some(simulation.concentrations);
        }
    });
}

/// The same through the JSON edge, as `respite pk simulate` runs it (parse, simulate, bands, write).
#[divan::bench]
fn five_hour_session_1s_domino_json(bencher: Bencher) {
    let input = r#"{"model": "domino", "patient": {"weight_kg": 70, "age_years": 40, "sex": "male",
        "height_cm": 170}, "doses": [{"start_min": 0, "duration_min": 1, "amount_mg": 24.5},
        {"start_min": 1, "duration_min": 240, "rate_mg_per_h": 35}], "until_min": 300, "step_s": 1}"#;
    bencher.bench(|| simulate_json(black_box(input)).map(|text| text.len()));
}

#[divan::bench]
fn arithmetic_floor(bencher: Bencher) {
    let k: [f64; 11] = black_box([
        0.9, 0.99, 0.999, 1e-3, 1e-4, 1e-5, 0.98, 2e-3, 3e-3, 4e-3, 1e-6,
    ]);
    let mut plasma = vec![0.0; SAMPLES];
    let mut effect = vec![0.0; SAMPLES];
    bencher.bench_local(|| {
        let (mut x0, mut x1, mut x2, mut e) = (1.0, 1.0, 1.0, 0.0);
        for (p, q) in plasma.iter_mut().zip(effect.iter_mut()) {
            e = k[6] * e + k[7] * x0 + k[8] * x1 + k[9] * x2 + k[10];
            x0 = k[0] * x0 + k[3];
            x1 = k[1] * x1 + k[4];
            x2 = k[2] * x2 + k[5];
            *p = x0 + x1 + x2;
            *q = e;
        }
        black_box((plasma.last(), effect.last()));
    });
}
