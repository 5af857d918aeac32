#!/usr/bin/env bash
# Creates the benchmarks' own Python venv (default bench/target/venv) from bench/python/requirements.txt, with the
# project's one venv script (testdata/python/setup_venv.sh: local pip mirror only, reused while the requirements
# file is unchanged).
#
#   bench/python/setup_venv.sh [VENV_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../../testdata/python/setup_venv.sh" "${1:-$(cd "$here/.." && pwd)/target/venv}" "$here/requirements.txt" >&2
