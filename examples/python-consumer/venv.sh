#!/usr/bin/env bash
# Prints the python of the example consumer's virtualenv, creating it from requirements.txt (PyPI)
# first when it is missing or was made from other requirements.
#
# Env: CONSUMER_VENV (default ~/.cache/todo-graphql-dapr/python-consumer-venv), PYTHON (python3; 3.10+).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
venv="${CONSUMER_VENV:-$HOME/.cache/todo-graphql-dapr/python-consumer-venv}"
python="${PYTHON:-python3}"
log() { printf '[python-consumer] %s\n' "$*" >&2; }

want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements-sha256" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi

"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
  log "needs Python 3.10 or later ($python is $("$python" --version 2>&1))"
  exit 1
}
log "creating $venv from requirements.txt"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
# Written last: an interrupted install is redone next time.
echo "$want" >"$venv/.requirements-sha256"
echo "$venv/bin/python"
