#!/usr/bin/env bash
# Regenerates the committed PK oracle fixtures (oracles/pk/fixtures/*.json).
# Makes a venv under oracles/pk/.venv (git-ignored), installs the oracles' packages from PyPI
# (requirements.txt, numpy and scipy pinned to the versions that made the committed fixtures)
# and runs both generators. opentiva builds from source: the build tools first, then opentiva
# with --no-build-isolation.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"
"$venv/bin/pip" install --quiet --no-build-isolation opentiva==1.1.2
cd "$here"
"$venv/bin/python" opentiva_fixtures.py
"$venv/bin/python" expm_fixtures.py
# target_check.py (run by scripts/test after this) uses the same venv and needs the binary.
echo "fixtures regenerated; check with: cargo test -p respite-pk" >&2
