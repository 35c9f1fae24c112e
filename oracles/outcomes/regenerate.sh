#!/usr/bin/env bash
# Regenerates the committed outcomes oracle fixtures (oracles/outcomes/fixtures/*.json) with
# scipy.stats.ecdf. Makes a venv under oracles/outcomes/.venv (git-ignored) and installs the pinned
# packages of requirements.txt from PyPI. scripts/test runs this and fails if the fixtures change.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
cd "$here"
"$venv/bin/python" kaplan_meier_fixtures.py
echo "fixtures regenerated; check with: cargo test -p respite-clinical --test clinical outcomes" >&2
