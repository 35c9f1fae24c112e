#!/usr/bin/env bash
# One command for the PK benchmark: the Rust simulator (crates/pk/benches/simulate.rs, divan) and
# opentiva 1.1.2 (opentiva_timing.py) on the same scenario in the same run: Domino, 70 kg,
# 0.35 mg/kg over 1 min then 0.5 mg/kg/h for 4 h, 5 hours at 1-second resolution, plasma and
# effect site, one core. Prints simulations per second for both, their ratio, and the ratio to
# the arithmetic floor (15 flops per step at this core's peak multiply-add rate). Also the time
# to propose a target-guided plan for a 4-hour session at 10-s steps, as a ratio to one
# simulation of the same length in the same run.
#
# Usage: bench/pk/run.sh [seconds per measurement, default 3]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
seconds="${1:-3}"
venv="$repo/oracles/pk/.venv"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import opentiva" 2>/dev/null; then
    echo "setting up $venv (opentiva builds from source)..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet cython numpy wheel scipy
    "$venv/bin/pip" install --quiet --no-build-isolation opentiva==1.1.2
fi

echo "== Rust (divan, ${seconds}s per benchmark)" >&2
rust_out="$(mktemp)"
trap 'rm -f "$rust_out"' EXIT
(cd "$repo" && cargo bench -p respite-pk --bench simulate -- --min-time "$seconds") | tee "$rust_out" >&2

echo "== opentiva (${seconds}s per measurement)" >&2
opentiva_json="$("$venv/bin/python" "$here/opentiva_timing.py" "$seconds")"
echo "$opentiva_json" >&2

python3 - "$rust_out" "$opentiva_json" <<'PY'
import json, re, sys

UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
STEPS = 5 * 3600 + 1
medians = {}
for line in open(sys.argv[1], encoding="utf-8"):
    cells = [c.strip() for c in line.split("│")]
    if len(cells) < 3:
        continue
    m = re.match(r"^[├╰]─\s+(\S+)\s", cells[0])
    v = re.match(r"^([\d.]+)\s*(\S+)$", cells[2])
    if m and v:
        medians[m.group(1)] = float(v.group(1)) * UNITS[v.group(2)]
opentiva = json.loads(sys.argv[2])
ot = opentiva["with_effect_per_s"]

def line(label, seconds):
    rate = 1 / seconds
    print(f"  {label:<44} {seconds * 1e6:10.1f} µs  {rate:12,.0f} sims/s  "
          f"{rate / ot:8,.0f}x opentiva  {seconds * 1e9 / STEPS:6.2f} ns/step  "
          f"{seconds / medians['arithmetic_floor']:5.2f}x floor")

print()
print("PK benchmark: Domino, 5 h at 1 s (18,001 steps), plasma + effect site, one core (medians)")
print(f"  {'opentiva 1.1.2 with effect site (Pump.run)':<44} {1e6 / ot:10.1f} µs  {ot:12,.1f} sims/s")
print(f"  {'opentiva 1.1.2 plasma only (cp_over_time)':<44} {1e6 / opentiva['plasma_only_per_s']:10.1f} µs  "
      f"{opentiva['plasma_only_per_s']:12,.1f} sims/s")
line("respite-pk, buffers reused (batch)", medians["five_hour_session_1s_domino_reusing_buffers"])
line("respite-pk, fresh output buffers", medians["five_hour_session_1s_domino"])
line("respite-pk through JSON (parse..write)", medians["five_hour_session_1s_domino_json"])
floor = medians["arithmetic_floor"]
print(f"  {'arithmetic floor (15 flops/step at peak FMA)':<44} {floor * 1e6:10.1f} µs  "
      f"{1 / floor:12,.0f} sims/s  {floor * 1e9 / STEPS:>27.2f} ns/step")
plan = medians.get("target_plan_4h_10s_kamp")
one = medians.get("target_comparison_simulate_4h_10s_kamp")
if plan and one:
    print()
    print("Target-guided plan (respite pk target): Kamp, 83 kg, 150 ng/mL, 4 h at 10 s (1,441 samples)")
    print(f"  {'propose a plan':<44} {plan * 1e6:10.1f} µs")
    print(f"  {'one simulate of the same length':<44} {one * 1e6:10.1f} µs")
    print(f"  {'ratio':<44} {plan / one:10.1f} x one simulation")
PY
