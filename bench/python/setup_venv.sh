#!/usr/bin/env bash
# Creates the benchmarks' own Python venv (default bench/target/venv) from bench/python/requirements.txt, using
# the local pip mirror only (as testdata/python/setup_venv.sh does). Idempotent: a venv whose requirements file
# is unchanged since it was built is reused. Never touches the system site-packages.
#
#   bench/python/setup_venv.sh [VENV_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-$(cd "$here/.." && pwd)/target/venv}"
req="$here/requirements.txt"
stamp="$venv/.spherekit-requirements"
if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$req" "$stamp"; then
  echo "bench python venv up to date: $venv" >&2
  exit 0
fi
py="${SPHEREKIT_PYTHON3:-python3}"
command -v "$py" >/dev/null || { echo "error: $py not found; install Python 3.11" >&2; exit 1; }
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
echo "bench python venv ready: $venv ($("$venv/bin/python" -c 'import keras, onnxruntime; print("keras", keras.__version__, "onnxruntime", onnxruntime.__version__)'))" >&2
