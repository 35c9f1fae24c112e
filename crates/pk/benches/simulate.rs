//! A 5-hour session at 1-second resolution (18,001 samples), Domino, 0.35 mg/kg over 1 min then
//! 0.5 mg/kg/h for 4 h, plasma and effect site: the scenario pk-models.md times opentiva on.
//! `bench/pk/run.sh` runs this beside opentiva and prints the ratios.
//!
//! `arithmetic_floor` is the yardstick for "within 4x of the floor": the time this core needs for
//! the 15 floating-point operations per step of the exact solution (three compartments and an
//! effect site) over 18,001 steps at its peak multiply-add throughput.

use divan::{black_box, Bencher};
use respite_pk::units::{Centimetres, Kilograms, MgPerHour, Milligrams, Seconds, Years};
use respite_pk::{propose_plan, EffectSiteTarget, DEFAULT_TIME_TO_PEAK};
use respite_pk::{simulate, simulate_json, Dose, DosingPlan, ElapsedMinutes, Model, Patient, Sex};
use respite_pk::{simulate_reusing, Concentrations, SimulationSettings};

fn main() {
    divan::main();
}

const SAMPLES: usize = 5 * 3600 + 1;

fn scenario() -> Option<(Patient, DosingPlan, SimulationSettings)> {
    let patient = Patient::new(
        Kilograms::literal(70.0),
        Years::literal(40.0),
        Sex::Male,
        Centimetres::literal(170.0),
    )
    .ok()?;
    let plan = DosingPlan::new(vec![
        Dose::amount(
            ElapsedMinutes::literal(0.0),
            ElapsedMinutes::literal(1.0),
            Milligrams::literal(24.5),
        )
        .ok()?,
        Dose::rate(
            ElapsedMinutes::literal(1.0),
            ElapsedMinutes::literal(240.0),
            MgPerHour::literal(35.0),
        )
        .ok()?,
    ])
    .ok()?;
    Some((
        patient,
        plan,
        SimulationSettings::new(ElapsedMinutes::literal(300.0), Seconds(1.0)),
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

/// The target-guided plan of docs/pk.md for a 4-hour session at 10-s steps (1,441 samples): the
/// issue's request (Kamp, 83 kg, 150 ng/mL within 5 min, rate changes at least 10 min apart,
/// 0.35 mg/kg and 2 mg/kg/h), held for 240 min. `bench/pk/run.sh` prints its time as a ratio to
/// `target_comparison_simulate_4h_10s_kamp`, one simulation of the same length, in the same run.
#[divan::bench]
fn target_plan_4h_10s_kamp(bencher: Bencher) {
    let Some((patient, target)) = target_scenario() else {
        return;
    };
    bencher.bench(|| {
        propose_plan(
            black_box(Model::Kamp),
            black_box(&patient),
            black_box(&target),
            Seconds(10.0),
            DEFAULT_TIME_TO_PEAK,
        )
        .map(|plan| plan.reached_at)
    });
}

/// One `simulate` of the plan proposed above, same model, patient, length and step.
#[divan::bench]
fn target_comparison_simulate_4h_10s_kamp(bencher: Bencher) {
    let Some((patient, target)) = target_scenario() else {
        return;
    };
    let Ok(proposal) = propose_plan(
        Model::Kamp,
        &patient,
        &target,
        Seconds(10.0),
        DEFAULT_TIME_TO_PEAK,
    ) else {
        return;
    };
    let settings = SimulationSettings::new(ElapsedMinutes::literal(240.0), Seconds(10.0));
    bencher.bench(|| {
        simulate(
            black_box(Model::Kamp),
            black_box(&patient),
            black_box(&proposal.plan),
            black_box(&settings),
        )
    });
}

fn target_scenario() -> Option<(Patient, EffectSiteTarget)> {
    let patient = Patient::new(
        Kilograms::literal(83.0),
        Years::literal(61.0),
        Sex::Male,
        Centimetres::literal(178.0),
    )
    .ok()?;
    let target = EffectSiteTarget::from_numbers(150.0, 5.0, 240.0, 10.0, 0.35, 2.0).ok()?;
    Some((patient, target))
}

/// The arithmetic floor of one simulation: 15 floating-point operations per step (pk-models.md:
/// the exact solution for three compartments and an effect site), 18,001 steps, at this core's
/// peak multiply-add throughput, measured by independent fused multiply-adds with no memory
/// traffic (AVX2/FMA where the CPU has them, as the simulator's hot loop uses).
#[divan::bench]
fn arithmetic_floor(bencher: Bencher) {
    // 8 accumulators x 4 lanes x 2 flops per iteration.
    const FLOPS_PER_ITERATION: usize = 64;
    let iterations = (SAMPLES * 15).div_ceil(FLOPS_PER_ITERATION);
    bencher.bench_local(|| peak::multiply_adds(black_box(iterations)));
}

mod peak {
    /// Runs `iterations` x 32 independent multiply-adds; returns a value depending on all.
    pub fn multiply_adds(iterations: usize) -> f64 {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU has AVX2 and FMA, checked on the line above.
                return unsafe { avx2_fma(iterations) };
            }
        }
        portable(iterations)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2_fma(iterations: usize) -> f64 {
        use std::arch::x86_64::*;
        let a = _mm256_set1_pd(divan::black_box(0.999_999));
        let b = _mm256_set1_pd(divan::black_box(1e-7));
        let mut acc = [_mm256_set1_pd(1.0); 8];
        for _ in 0..iterations {
            for x in &mut acc {
                *x = _mm256_fmadd_pd(a, *x, b);
            }
        }
        let mut out = [0.0; 4];
        let sum = acc
            .iter()
            .fold(_mm256_setzero_pd(), |s, x| _mm256_add_pd(s, *x));
        _mm256_storeu_pd(out.as_mut_ptr(), sum);
        out.iter().sum()
    }

    fn portable(iterations: usize) -> f64 {
        let (a, b) = (divan::black_box(0.999_999), divan::black_box(1e-7));
        let mut acc = [1.0f64; 32];
        for _ in 0..iterations {
            for x in &mut acc {
                *x = a * *x + b;
            }
        }
        acc.iter().sum()
    }
}
