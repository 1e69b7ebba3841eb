#!/usr/bin/env bash
# System packages the test suite needs on a fresh Debian 12 CI machine:
# chromium (headless browser tests), kcat (Kafka smoke checks) and postgresql (the backend
# of the FerretDB stand-in; scripts/infra/postgres.sh runs its own throwaway cluster).
# Installs only what is missing, so a provisioned machine costs nothing.
set -euo pipefail

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v kcat >/dev/null || missing+=(kcat)  # Debian 12 ships kcat (kafkacat is its old alias)
# The server binaries live outside PATH, under the major version's directory.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if ((${#missing[@]} == 0)); then echo "install-system: chromium, kcat and postgresql already installed" >&2; exit 0; fi

SUDO=""; ((EUID == 0)) || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-system: installing ${missing[*]}..." >&2
# Fresh machines have empty or stale package lists: install fails without an update.
$SUDO apt-get update -qq
# The package's own cluster (port 5432, started by its service) is not used; the tests run their own.
$SUDO apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
echo "install-system: installed ${missing[*]}" >&2
