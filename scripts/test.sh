#!/usr/bin/env bash
# Install everything the test suite needs, then run the linter, the import contracts, the type checker
# and the whole test suite.
# This is the README's second set-up command, and what CI (.ci/run) calls.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
# acro (per-table output checker, a test oracle) pins pandas<=2.3.3 but works with pandas 3:
python3 -m pip install --quiet --disable-pip-version-check --no-deps 'acro==1.0.2'
# The test oracles are required: fail here, naming the missing one, rather than in collection.
for oracle in acro pytauargus; do
  if ! python3 -c "import ${oracle}" 2>/dev/null; then
    echo "scripts/test.sh: the test oracle '${oracle}' does not import after installation:" >&2
    python3 -c "import ${oracle}" >&2 || true
    exit 1
  fi
done
python3 -m ruff check .
# The zones' import contracts ([tool.importlinter] in pyproject.toml, docs/architecture.md).
lint-imports pyproject.toml
# Types: strict on core/, released/ and disclosure/ ([tool.mypy] in pyproject.toml).
python3 -m mypy
python3 -m pytest "$@"
