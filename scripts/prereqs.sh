#!/usr/bin/env bash
# Shared by build.sh, test.sh and bench/run: installs what is missing, from Debian's packages.
# Usage: source scripts/prereqs.sh; ensure_packages CMD:PACKAGE ...
set -euo pipefail

_apt_updated=0
ensure_packages() {
  local missing=()
  for pair in "$@"; do
    local cmd="${pair%%:*}" pkg="${pair##*:}"
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: missing ${missing[*]} and not root; install them with apt-get" >&2; return 1
    fi
  fi
  echo "Installing ${missing[*]} ..." >&2
  if [ $_apt_updated -eq 0 ]; then $sudo apt-get update -qq >&2; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}

# Usage: ensure_files FILE:PACKAGE ...: installs PACKAGE (without recommends) when FILE is missing.
ensure_files() {
  local missing=()
  for pair in "$@"; do
    [ -f "${pair%%:*}" ] || missing+=("${pair##*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "Installing ${missing[*]} ..." >&2
  if [ $_apt_updated -eq 0 ]; then $sudo apt-get update -qq >&2; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET SDK 10 is required (dotnet on PATH); see https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
    return 1
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}

# The .NET runtime identifier of this machine, for a ReadyToRun publish.
dotnet_rid() {
  case "$(uname -m)" in
    x86_64) echo linux-x64 ;;
    aarch64|arm64) echo linux-arm64 ;;
    armv7l) echo linux-arm ;;
    *) echo "linux-$(uname -m)" ;;
  esac
}
