"""Exact plasma and effect-site concentrations from the matrix exponential of the augmented linear
system, written to fixtures/expm.json for crates/pk/tests.

Written separately from the Rust code and by a different method: the Rust library sums
exponentials mode by mode; here the compartment amounts and the effect site are one linear system
dx/dt = M·x + b·u, advanced interval by interval with scipy.linalg.expm of [[M, b·u], [0, 0]]·h.
ke0 is found here by brentq on dCe/dt(t_peak) = 0 after a bolus, again by matrix exponentials.

Covers what opentiva cannot: the effect site (opentiva's lags by up to ~1.2 %), instantaneous
boluses (opentiva has none), doses off the sample grid, and Kamp with the paper's allometric
clearances at weights other than 70 kg. Needs numpy and scipy; installs nothing.
"""

import json
import sys
from pathlib import Path

import numpy as np
import scipy
from scipy.linalg import expm
from scipy.optimize import brentq

import plans

T_PEAK_MIN = 1.0


def parameters(model, weight):
    """(V1 L, k10, k12, k13, k21, k31 per min) as listed in shared/clinical/pk-models.md."""
    if model == "domino":
        return 0.063 * weight, 0.4381, 0.5921, 0.5900, 0.2470, 0.0146
    if model == "clements250":
        return 1.7522 * weight, 0.0109, 0.0186, 0.0, 0.0137, 0.0
    if model == "hijazi":
        return 1.08 * weight, 0.0333, 0.0088, 0.0, 0.0030, 0.0
    if model == "kamp":
        # Kamp 2020: volumes x (W/70), clearances (L/h) x (W/70)^0.75.
        v1, v2, v3 = (v * weight / 70 for v in (25.0, 56.0, 157.0))
        cl, q2, q3 = (c * (weight / 70) ** 0.75 / 60 for c in (84.0, 161.0, 79.0))
        return v1, cl / v1, q2 / v1, q3 / v1, q2 / v2, q3 / v3
    raise ValueError(model)


def system(model, weight, ke0):
    """State [A1, A2, A3 (mg), Ce (ng/mL)]; input u (mg/min) into A1."""
    v1, k10, k12, k13, k21, k31 = parameters(model, weight)
    m = np.zeros((4, 4))
    m[0, 0] = -(k10 + k12 + k13)
    m[0, 1] = k21
    m[0, 2] = k31
    m[1, 0] = k12
    m[1, 1] = -k21
    m[2, 0] = k13
    m[2, 2] = -k31
    m[3, 0] = ke0 * 1000 / v1
    m[3, 3] = -ke0
    return m, v1


def propagator(m, h, u):
    aug = np.zeros((5, 5))
    aug[:4, :4] = m
    aug[0, 4] = u
    e = expm(aug * h)
    return e[:4, :4], e[:4, 4]


def ke0_for_peak(model, weight):
    def plasma_minus_effect(ke0):
        m, v1 = system(model, weight, ke0)
        x = expm(m * T_PEAK_MIN) @ np.array([1.0, 0, 0, 0])
        return x[0] * 1000 / v1 - x[3]

    return brentq(plasma_minus_effect, 1e-3, 1e3, xtol=1e-14, rtol=1e-14)


def us(minutes):
    """Times as integer microseconds so that grid and dose times compare exactly."""
    return int(round(minutes * 60e6))


def simulate(model, weight, doses, until_min, step_s):
    ke0 = ke0_for_peak(model, weight)
    m, v1 = system(model, weight, ke0)
    n = int(round(until_min * 60 / step_s)) + 1
    samples = [k * int(step_s * 1e6) for k in range(n)]
    boluses, infusions = {}, []
    for d in doses:
        start, end = us(d["start_min"]), us(d["start_min"] + d["duration_min"])
        if d["duration_min"] == 0:
            boluses[start] = boluses.get(start, 0.0) + d["amount_mg"]
        elif "amount_mg" in d:
            infusions.append((start, end, d["amount_mg"] / d["duration_min"]))
        else:
            infusions.append((start, end, d["rate_mg_per_h"] / 60))
    times = sorted(set(samples) | set(boluses) | {t for s, e, _ in infusions for t in (s, e)})
    times = [t for t in times if t <= samples[-1]]
    sample_set = set(samples)
    cache = {}
    x = np.zeros(4)
    plasma, effect = [], []
    for i, t in enumerate(times):
        if t in boluses:
            x[0] += boluses[t]  # right-continuous: in the sample at t
        if t in sample_set:
            plasma.append(x[0] * 1000 / v1)
            effect.append(x[3])
        if i + 1 == len(times):
            break
        nxt = times[i + 1]
        u = sum(rate for s, e, rate in infusions if s <= t and nxt <= e)
        key = (nxt - t, u)
        if key not in cache:
            cache[key] = propagator(m, (nxt - t) / 60e6, u)
        phi, gamma = cache[key]
        x = phi @ x + gamma
    return ke0, plasma, effect


def main():
    cases = []

    def add(model, patient, name, doses, until_min, step_s):
        ke0, plasma, effect = simulate(model, patient["weight_kg"], doses, until_min, step_s)
        kept = plans.kept_indices(step_s, until_min, doses)
        cases.append({
            "name": f"{model}/{name}/{patient['weight_kg']}kg/{step_s}s",
            "input": plans.request(model, patient, doses, until_min, step_s),
            "ke0_per_min": ke0,
            "t_min": [k * step_s / 60 for k in kept],
            "plasma_ng_ml": plans.rounded([plasma[k] for k in kept]),
            "effect_ng_ml": plans.rounded([effect[k] for k in kept]),
        })

    models = ["domino", "clements250", "hijazi", "kamp"]
    # Effect site, every model, the plans with rising ramps and pauses, one step each.
    for i, model in enumerate(models):
        for j, (plan_index, step_s) in enumerate([(2, 1), (3, 10), (4, 60)]):
            patient = plans.PATIENTS[(i + j) % len(plans.PATIENTS)]
            name, doses, until_min = plans.plans(patient["weight_kg"])[plan_index]
            add(model, patient, name, doses, until_min, step_s)
    # Instantaneous boluses and off-grid doses, every model, every step.
    for i, model in enumerate(models):
        for j, step_s in enumerate(plans.STEPS_S):
            patient = plans.PATIENTS[(i + j + 1) % len(plans.PATIENTS)]
            for name, doses, until_min in plans.instantaneous_plans(patient["weight_kg"]):
                add(model, patient, name, doses, until_min, step_s)
    # Kamp (allometric) at 50, 95 and 120 kg, every plan.
    for j, patient in enumerate(p for p in plans.PATIENTS if p["weight_kg"] != 70):
        for plan_index in range(5):
            step_s = plans.STEPS_S[(plan_index + j) % 3]
            name, doses, until_min = plans.plans(patient["weight_kg"])[plan_index]
            add("kamp", patient, name, doses, until_min, step_s)

    fixture = {
        "generator": "oracles/pk/expm_fixtures.py",
        "reference": f"scipy.linalg.expm of the augmented system (numpy {np.__version__}, "
                     f"scipy {scipy.__version__}); ke0 from t_peak = {T_PEAK_MIN} min by brentq",
        "compare": ["plasma_ng_ml", "effect_ng_ml"],
        "cases": cases,
    }
    out = Path(__file__).parent / "fixtures" / "expm.json"
    out.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
