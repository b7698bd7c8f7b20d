# shellcheck shell=bash
# Installs the Debian packages Tuku's scripts need, when they are missing. Needs root (or sudo-less root CI).

tuku_ensure_tools() {
  local missing=()
  command -v swift >/dev/null 2>&1 || [ -x /opt/swift/usr/bin/swift ] || { echo "tuku: Swift 6.2+ is required (expected at /opt/swift)" >&2; return 1; }
  if ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql postgresql-contrib)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v curl >/dev/null 2>&1 || missing+=(curl ca-certificates)
  command -v xmllint >/dev/null 2>&1 || missing+=(libxml2-utils)
  [ -e /usr/lib/x86_64-linux-gnu/libxml2.so ] || [ -e /usr/lib/aarch64-linux-gnu/libxml2.so ] || missing+=(libxml2-dev)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  # deploy/validate.sh checks the systemd units with systemd-analyze.
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  # The JWT cross-check tests make a virtual environment for PyJWT from PyPI.
  python3 -c 'import jwt, cryptography' >/dev/null 2>&1 || python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
  # The HMRC sandbox tests validate bodies against HMRC's OpenAPI with jsonschema (scripts/lib/hmrc-schema-check.py).
  python3 -c 'import jsonschema, yaml' >/dev/null 2>&1 || missing+=(python3-jsonschema python3-yaml)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "tuku: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
