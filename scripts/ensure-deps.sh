#!/usr/bin/env bash
# Installs what `make demo` and `make test` need on a fresh Debian machine, or prints the command when
# not root. Swift itself cannot come from apt: it must already be on the PATH (Swift 6.1 or later).
set -euo pipefail

need_apt=()

if ! command -v swift >/dev/null 2>&1; then
  echo "error: the Swift toolchain (6.1 or later) is not on PATH; install it from swift.org and retry." >&2
  exit 1
fi

pg_ok=false
for dir in /usr/lib/postgresql/*/bin; do
  version=$(basename "$(dirname "$dir")")
  if [[ "$version" =~ ^[0-9]+$ ]] && (( version >= 15 )) && [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
    pg_ok=true
  fi
done
$pg_ok || need_apt+=(postgresql)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
command -v gzip >/dev/null 2>&1 || need_apt+=(gzip)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# The outside-client tests run TinCanPython from a virtual environment.
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need_apt+=(python3-venv)
# The real-browser test drives headless Chromium through chromedriver.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
# Foundation's networking (used by tests) links libcurl at run time.
ldconfig -p 2>/dev/null | grep -q 'libcurl\.so\.4' || need_apt+=(libcurl4)
# PostgreSQL's parser as a library, for the guarded SQL surface's first check (Package.swift target CPgQuery).
[[ -f /usr/include/pg_query.h ]] || need_apt+=(libpg-query-dev)
# zlib for gzip-compressed exports (Package.swift target CZlib).
[[ -f /usr/include/zlib.h ]] || need_apt+=(zlib1g-dev)

if (( ${#need_apt[@]} > 0 )); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "• Installing Debian packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "error: missing Debian packages. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
fi

if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
  echo "error: running as root needs the 'postgres' OS user (it comes with the postgresql package)." >&2
  exit 1
fi
