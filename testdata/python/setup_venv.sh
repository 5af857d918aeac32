#!/usr/bin/env bash
# Creates a Python venv from the local pip mirror only. Idempotent: a venv whose requirements file is unchanged
# since it was built is reused. Never touches the system site-packages.
#
#   testdata/python/setup_venv.sh [VENV_DIR [REQUIREMENTS]]
#
# Defaults: testdata/target/venv and testdata/python/requirements.txt (onnx.checker and the Keras parity references);
# bench/python/setup_venv.sh calls it with the benchmarks' venv and requirements.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-$here/../target/venv}"
req="${2:-$here/requirements.txt}"
stamp="$venv/.spherekit-requirements"
if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$req" "$stamp"; then
  echo "python venv up to date: $venv"
  exit 0
fi
py="${SPHEREKIT_PYTHON3:-python3}"
command -v "$py" >/dev/null || { echo "error: $py not found; install Python 3.11 or build with -Dspherekit.skipPython=true" >&2; exit 1; }
"$py" -m venv "$venv"
# The default index is unreachable on these machines: use the local mirror only, and never retry the network.
pip_args=(--disable-pip-version-check --retries 0 --timeout 5)
if [[ -d /opt/pypi/simple ]]; then
  pip_args+=(--index-url file:///opt/pypi/simple)
  [[ -d /opt/pypi-more/simple ]] && pip_args+=(--extra-index-url file:///opt/pypi-more/simple)
  [[ -d /opt/wheels ]] && pip_args+=(--find-links /opt/wheels)
fi
"$venv/bin/pip" install -q "${pip_args[@]}" -r "$req"
cp "$req" "$stamp"
echo "python venv ready: $venv (from $req)"
