#!/usr/bin/env bash
# Functional check of the benchmark apps (CI): every bench app must answer the
# same status codes and bodies on every endpoint, 404/422 cases included.
# Creates tools/bench/.venv on first use (needs uv and PyPI); no load is generated.
# Exit status is non-zero on any mismatch; each server is stopped by its own PID.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Any Python 3.11+ runs the harness (standard library only); servers use the bench venv.
py="$(command -v python3)"
exec timeout 600 "$py" "$here/run.py" --check-only "$@"
