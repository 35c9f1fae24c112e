"""Times opentiva 1.1.2 on the benchmark scenario of crates/pk/benches/simulate.rs: Domino, 70 kg,
0.35 mg/kg (24.5 mg) over 1 min then 35 mg/h for 240 min, 5 hours at 1-second resolution, plasma
and effect site (Pump.run) and plasma only (PkPdModel.cp_over_time). One core. Prints JSON.

Run with the venv that oracles/pk/regenerate.sh makes; installs nothing.
"""

import json
import sys
import time
import warnings

from opentiva import ketamine
from opentiva.pkpd import PkPdModel
from opentiva.pump import Pump

SECONDS = 5 * 3600


def pump():
    model = ketamine.Domino(0, 40, 70, 170)
    # drug_concentration only matters for rates in mL/h, which this does not use.
    p = Pump(model, drug_concentration=10, end_time=SECONDS + 1)
    p.add_infusion(0, 24.5 / 60, 60)
    p.add_infusion(60, 35 / 3600, 240 * 60)
    return p


def per_second(run, min_seconds):
    run()  # warm up
    count, start = 0, time.perf_counter()
    while True:
        run()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return count / elapsed


def main():
    warnings.filterwarnings("ignore", category=UserWarning)
    min_seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    p = pump()
    p.generate_infusions()
    pk = PkPdModel(p.model)
    with_effect = per_second(lambda: pump().run(), min_seconds)
    plasma_only = per_second(lambda: pk.cp_over_time(p.infusion_list, 0, SECONDS + 1), min_seconds)
    print(json.dumps({"with_effect_per_s": with_effect, "plasma_only_per_s": plasma_only}))


if __name__ == "__main__":
    main()
