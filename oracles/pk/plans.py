"""Patients, plans and sampling shared by the two fixture generators.

Doses use the wire format of `respite pk simulate` (issue 4): amount_mg over duration_min
(0 = instantaneous bolus) or rate_mg_per_h over duration_min > 0. Times are whole seconds except in
the off-grid plan, which only the matrix-exponential oracle uses (opentiva works in whole seconds).
"""

PATIENTS = [
    {"weight_kg": 50, "age_years": 30, "sex": "female", "height_cm": 160},
    {"weight_kg": 70, "age_years": 40, "sex": "male", "height_cm": 170},
    {"weight_kg": 95, "age_years": 55, "sex": "female", "height_cm": 168},
    {"weight_kg": 120, "age_years": 48, "sex": "male", "height_cm": 185},
]

STEPS_S = [1, 10, 60]


def bolus(start_min, duration_min, mg):
    return {"start_min": start_min, "duration_min": duration_min, "amount_mg": mg}


def infusion(start_min, duration_min, mg_per_h):
    return {"start_min": start_min, "duration_min": duration_min, "rate_mg_per_h": mg_per_h}


def plans(weight_kg):
    """(name, doses, until_min) for one patient; amounts from mg/kg as protocols state them."""
    w = weight_kg
    return [
        ("bolus_over_1_min", [bolus(0, 1, 0.35 * w)], 120),
        ("infusion_only", [infusion(0, 120, 0.5 * w)], 180),
        ("bolus_then_infusion", [bolus(0, 1, 0.35 * w), infusion(1, 240, 0.5 * w)], 300),
        ("two_boluses", [bolus(0, 1, 0.2 * w), bolus(45, 2, 0.15 * w)], 120),
        ("paused_infusion", [infusion(0, 60, 1.0 * w), infusion(90, 90, 1.0 * w)], 240),
    ]


def instantaneous_plans(weight_kg):
    """Plans with 0-minute boluses (opentiva cannot give these) and doses off the sample grid."""
    w = weight_kg
    return [
        ("instant_bolus", [bolus(0, 0, 0.35 * w)], 120),
        (
            "instant_boluses_with_infusion",
            [bolus(0, 0, 20.0), infusion(0, 120, 0.5 * w), bolus(30, 0, 10.0), bolus(45.25, 0, 5.0)],
            150,
        ),
        (
            "off_grid_doses",
            [infusion(0.75, 32.55, 40.0), bolus(50.1, 0.5, 10.0), bolus(50.1, 0, 2.5)],
            90,
        ),
    ]


def dose_events_s(doses):
    """Start and end of every dose, in seconds."""
    events = []
    for dose in doses:
        events.append(dose["start_min"] * 60)
        events.append((dose["start_min"] + dose["duration_min"]) * 60)
    return events


def kept_indices(step_s, until_min, doses):
    """Which samples of a run go into the committed fixture: all at 60 s; at finer steps the first
    minutes, every sample within a minute of a dose start or end, and one every 2 minutes."""
    n = int(round(until_min * 60 / step_s)) + 1
    if step_s >= 60:
        return list(range(n))
    events = dose_events_s(doses)
    dense_until_s = 90 if step_s == 1 else 300
    near_s = 30 if step_s == 1 else 60
    kept = []
    for k in range(n):
        t = k * step_s
        if t <= dense_until_s or t % 120 == 0 or any(abs(t - e) <= near_s for e in events):
            kept.append(k)
    return kept


def request(model, patient, doses, until_min, step_s):
    return {
        "model": model,
        "patient": patient,
        "doses": doses,
        "until_min": until_min,
        "step_s": step_s,
    }


def rounded(values):
    """Nine significant figures: far below the 0.5 % tolerance, and half the size."""
    return [float(f"{v:.9g}") for v in values]
