#!/usr/bin/env bash
# Creates or completes the git-ignored virtual environment .venv/ that holds the project's Python tools:
# the outside clients of scripts/run-client-tests.sh (TinCanPython, Selenium with axe-core, schemathesis,
# the MCP client) and moto's S3-compatible server, which the Swift tests of the S3 export store start
# on loopback (S3ExportStoreTests). Quiet and idempotent: it prints one line only when it installs.
# Called by scripts/run-tests.sh before `swift test` and by scripts/run-client-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
# selenium-axe-python bundles axe-core (4.9.1, the newest of the PyPI wheels that bundle it); the browser
# test injects it. moto is pinned: docs/exports-storage.md names the version the S3 store was tested with.
PACKAGES=("tincan==1.0.0" "selenium>=4.15,<5" "selenium-axe-python==2.2.0" "schemathesis>=4.32,<5" "mcp>=1.12,<2"
  "moto[server]==5.2.5")

complete() {
  [[ -x "$VENV/bin/python" && -x "$VENV/bin/moto_server" ]] || return 1
  "$VENV/bin/python" -c "import tincan, selenium, selenium_axe_python, schemathesis, mcp, flask, moto" 2>/dev/null || return 1
  [[ $("$VENV/bin/python" -c "import moto; print(moto.__version__)" 2>/dev/null) == "5.2.5" ]]
}

if ! complete; then
  echo "• Installing the Python tools (TinCanPython, Selenium, axe-core, schemathesis, the MCP client, moto's S3 server) into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}"
fi
