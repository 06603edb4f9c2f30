# Sourced by bin/plan and bin/test: make sure ./venv exists with the pinned dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BROXIVA_VENV:-$ROOT/venv}"
PY="${PYTHON:-python3}"
stamp="$VENV/.installed-$(cat "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt" "$ROOT/constraints.txt" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    echo "creating virtualenv $VENV" >&2
    "$PY" -m venv "$VENV"
  fi
  echo "installing pinned dependencies into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$ROOT/requirements-dev.txt" -c "$ROOT/constraints.txt" >&2
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
cd "$ROOT"
