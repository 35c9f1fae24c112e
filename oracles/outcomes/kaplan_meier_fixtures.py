"""Kaplan–Meier fixtures from an independent implementation: scipy.stats.ecdf.

For each fixed data set, writes the survival function at every distinct observed time, its
pointwise 95 % confidence interval by Greenwood's variance on the log(−log S) scale (scipy's
`confidence_interval(method="log-log")`, the "exponential Greenwood" interval of Kalbfleisch &
Prentice, The Statistical Analysis of Failure Time Data, 2nd ed. 2002, §1.4; Collett, Modelling
Survival Data in Medical Research, 3rd ed. 2015, §2.2.3), and the number at risk at chosen times.
Where the interval is undefined (S = 1 before the first event; S = 0 after the last subject's
event) scipy gives NaN and the fixture `null`. crates/clinical/tests/clinical/outcomes_oracle.rs
compares respite-clinical with these within 1e-9.
"""

import json
import math
import pathlib

import numpy as np
import scipy
from scipy import stats

HERE = pathlib.Path(__file__).resolve().parent


def freireich():
    # Freireich EJ et al. Blood 1963;21:699–716, the 6-MP arm: weeks in remission, censored
    # marked 0. The textbook example of Kaplan–Meier (Collett §2.1; Kalbfleisch & Prentice §1.4).
    times = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    events = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    return list(zip(times, events))


def generated():
    # 80 subjects, fixed seed: exponential event times (median ~60 days) against uniform
    # follow-up (0–180 days), both rounded to whole days, so that ties and censorings at event
    # times are common, like the clinic's durability data.
    rng = np.random.default_rng(20261127)
    event_time = np.floor(rng.exponential(60 / math.log(2), 80)).astype(int)
    follow_up = np.floor(rng.uniform(0, 180, 80)).astype(int)
    return [(int(min(e, f)), int(e <= f)) for e, f in zip(event_time, follow_up)]


DATA_SETS = {
    "freireich_6mp": freireich(),
    # Ties among events, and censorings at the same time as events (taken as still at risk at
    # that time, Kaplan & Meier 1958).
    "ties_and_censoring_at_event_times": [
        (1, 1), (1, 1), (1, 0), (2, 1), (2, 0), (2, 0), (3, 1), (3, 1), (3, 1),
        (5, 0), (5, 1), (8, 1), (8, 0), (13, 1), (21, 0),
    ],
    "all_censored": [(3, 0), (7, 0), (7, 0), (30, 0)],
    "one_subject_event": [(14, 1)],
    "one_subject_censored": [(14, 0)],
    # Every subject has the event: the curve reaches 0, where the interval is undefined.
    "all_events": [(2, 1), (4, 1), (4, 1), (9, 1)],
    "event_at_time_zero": [(0, 1), (0, 0), (4, 1), (6, 0), (10, 1), (12, 0)],
    "generated_80": generated(),
}

AT_RISK_TIMES = [0, 1, 7, 14, 28, 30, 60, 90, 180, 365]


def finite_or_none(value):
    value = float(value)
    return value if math.isfinite(value) else None


def case(name, observations):
    uncensored = [t for t, e in observations if e]
    right = [t for t, e in observations if not e]
    sf = stats.ecdf(stats.CensoredData(uncensored=uncensored, right=right)).sf
    band = sf.confidence_interval(0.95, method="log-log")
    steps = []
    for i, time in enumerate(sf.quantiles):
        steps.append({
            "time": int(time),
            "at_risk": sum(1 for t, _ in observations if t >= time),
            "events": sum(1 for t, e in observations if t == time and e),
            "censored": sum(1 for t, e in observations if t == time and not e),
            "survival": float(sf.probabilities[i]),
            "lower": finite_or_none(band.low.probabilities[i]),
            "upper": finite_or_none(band.high.probabilities[i]),
        })
    return {
        "name": name,
        "observations": [{"time": t, "event": bool(e)} for t, e in observations],
        "steps": steps,
        "at_risk_at": [
            {"time": t, "at_risk": sum(1 for u, _ in observations if u >= t)}
            for t in AT_RISK_TIMES
        ],
    }


def main():
    fixture = {
        "reference": f"scipy {scipy.__version__} (numpy {np.__version__}) stats.ecdf, "
                     "sf.confidence_interval(0.95, method='log-log')",
        "cases": [case(name, observations) for name, observations in DATA_SETS.items()],
    }
    out = HERE / "fixtures" / "kaplan_meier.json"
    out.write_text(json.dumps(fixture, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import warnings

    # scipy warns where the interval is undefined; the fixture records those as null.
    warnings.simplefilter("ignore", RuntimeWarning)
    main()
