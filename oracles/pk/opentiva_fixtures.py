"""Plasma concentrations from opentiva 1.1.2 (a peer implementation of the same published models),
written to fixtures/opentiva.json for crates/pk/tests, and its Kamp ("Klamp") at 70 kg only to
fixtures/opentiva_kamp_70kg.json.

Run in a venv where `pip install cython numpy wheel scipy` then
`pip install --no-build-isolation opentiva` were done (regenerate.sh does both). Installs nothing.

Only plasma: opentiva's effect site drops the rising-ramp term and it has no instantaneous bolus
(pk-models.md), and its Kamp ("Klamp") scales clearances linearly with weight where the paper
scales them by (W/70)^0.75: the two agree only at 70 kg, so Klamp is run at 70 kg alone; effect
site, instantaneous boluses and Kamp at other weights are checked against expm_fixtures.py (and
Kamp at 50 and 120 kg by hand in crates/pk/tests/pk/closed_form.rs). opentiva works in whole seconds; every dose here starts and ends on one.
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import opentiva
from opentiva import ketamine
from opentiva.pkpd import PkPdModel

import plans

MODELS = {
    "domino": ketamine.Domino,
    "clements250": ketamine.Clements250,
    "hijazi": ketamine.Hijazi,
}


def infusion_list(doses):
    """opentiva rows: [start s, dose per second (mg/s), duration s, end s]."""
    rows = []
    for dose in doses:
        start = int(round(dose["start_min"] * 60))
        duration = int(round(dose["duration_min"] * 60))
        assert duration > 0, "opentiva has no instantaneous bolus"
        if "amount_mg" in dose:
            per_second = dose["amount_mg"] / duration
        else:
            per_second = dose["rate_mg_per_h"] / 3600
        rows.append([start, per_second, duration, start + duration])
    return np.array(rows, dtype=np.float64)


def plasma_ng_ml(model_class, patient, doses, until_min, step_s):
    sex = 0 if patient["sex"] == "male" else 1
    model = model_class(sex, patient["age_years"], patient["weight_kg"], patient["height_cm"])
    pk = PkPdModel(model)
    infusions = infusion_list(doses)
    n = int(round(until_min * 60 / step_s)) + 1
    # opentiva's volumes are litres and doses mg, so it returns mg/L: x1000 for ng/mL.
    return [pk.calculate_cp(infusions, k * step_s) * 1000 for k in range(n)]


def case(model_name, model_class, patient, plan_index, step_s):
    name, doses, until_min = plans.plans(patient["weight_kg"])[plan_index]
    plasma = plasma_ng_ml(model_class, patient, doses, until_min, step_s)
    kept = plans.kept_indices(step_s, until_min, doses)
    return {
        "name": f"{model_name}/{name}/{patient['weight_kg']}kg/{step_s}s",
        "input": plans.request(model_name, patient, doses, until_min, step_s),
        "t_min": [k * step_s / 60 for k in kept],
        "plasma_ng_ml": plans.rounded([plasma[k] for k in kept]),
    }


def write(file_name, reference, cases):
    fixture = {
        "generator": "oracles/pk/opentiva_fixtures.py",
        "reference": reference,
        "compare": ["plasma_ng_ml"],
        "cases": cases,
    }
    out = Path(__file__).parent / "fixtures" / file_name
    out.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {out}", file=sys.stderr)


def main():
    # opentiva warns that Hijazi is validated only up to age 18 (its own error, see pk-models.md).
    warnings.filterwarnings("ignore", category=UserWarning, module="opentiva")
    version = getattr(opentiva, "__version__", "1.1.2")
    cases = []
    for model_name, model_class in MODELS.items():
        for plan_index in range(5):
            for step_index, step_s in enumerate(plans.STEPS_S):
                patient = plans.PATIENTS[(plan_index + step_index) % len(plans.PATIENTS)]
                cases.append(case(model_name, model_class, patient, plan_index, step_s))
    write(
        "opentiva.json",
        f"opentiva {version} PkPdModel.calculate_cp (numpy {np.__version__})",
        cases,
    )
    # Kamp at 70 kg, where (W/70)^0.75 = W/70 = 1: every plan at every step.
    patient = next(p for p in plans.PATIENTS if p["weight_kg"] == 70)
    kamp_cases = [
        case("kamp", ketamine.Klamp, patient, plan_index, step_s)
        for plan_index in range(5)
        for step_s in plans.STEPS_S
    ]
    write(
        "opentiva_kamp_70kg.json",
        f"opentiva {version} ketamine.Klamp at 70 kg, PkPdModel.calculate_cp "
        f"(numpy {np.__version__})",
        kamp_cases,
    )


if __name__ == "__main__":
    main()
