"""Plasma concentrations from opentiva 1.1.2 (a peer implementation of the same published models),
written to fixtures/opentiva.json for crates/pk/tests.

Run in a venv where `pip install cython numpy wheel scipy` then
`pip install --no-build-isolation opentiva` were done (regenerate.sh does both). Installs nothing.

Only plasma: opentiva's effect site drops the rising-ramp term and it has no instantaneous bolus
(pk-models.md), and its Kamp ("Klamp") scales clearances linearly: those are checked against
expm_fixtures.py instead. opentiva works in whole seconds; every dose here starts and ends on one.
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


def main():
    # opentiva warns that Hijazi is validated only up to age 18 (its own error, see pk-models.md).
    warnings.filterwarnings("ignore", category=UserWarning, module="opentiva")
    cases = []
    for model_name, model_class in MODELS.items():
        for plan_index in range(5):
            for step_index, step_s in enumerate(plans.STEPS_S):
                patient = plans.PATIENTS[(plan_index + step_index) % len(plans.PATIENTS)]
                name, doses, until_min = plans.plans(patient["weight_kg"])[plan_index]
                plasma = plasma_ng_ml(model_class, patient, doses, until_min, step_s)
                kept = plans.kept_indices(step_s, until_min, doses)
                cases.append({
                    "name": f"{model_name}/{name}/{patient['weight_kg']}kg/{step_s}s",
                    "input": plans.request(model_name, patient, doses, until_min, step_s),
                    "t_min": [k * step_s / 60 for k in kept],
                    "plasma_ng_ml": plans.rounded([plasma[k] for k in kept]),
                })
    fixture = {
        "generator": "oracles/pk/opentiva_fixtures.py",
        "reference": f"opentiva {getattr(opentiva, '__version__', '1.1.2')} PkPdModel.calculate_cp "
                     f"(numpy {np.__version__})",
        "compare": ["plasma_ng_ml"],
        "cases": cases,
    }
    out = Path(__file__).parent / "fixtures" / "opentiva.json"
    out.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
