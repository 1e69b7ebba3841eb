#!/usr/bin/env bash
# System packages the test suite needs on a fresh Debian 12 CI machine:
# chromium (headless browser tests) and kcat (Kafka smoke checks).
# Installs only what is missing, so a provisioned machine costs nothing.
set -euo pipefail

declare -A pkg_for_cmd=([chromium]=chromium [kcat]=kcat)  # Debian 12 ships kcat (kafkacat is its old alias)
missing=()
for cmd in "${!pkg_for_cmd[@]}"; do
  command -v "$cmd" >/dev/null || missing+=("${pkg_for_cmd[$cmd]}")
done
if ((${#missing[@]} == 0)); then echo "install-system: chromium and kcat already installed" >&2; exit 0; fi

SUDO=""; ((EUID == 0)) || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-system: installing ${missing[*]}..." >&2
# Fresh machines have empty or stale package lists: install fails without an update.
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
echo "install-system: installed ${missing[*]}" >&2
