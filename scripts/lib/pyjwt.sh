# shellcheck shell=bash
# A Python with PyJWT and cryptography from PyPI, for the tests that check Tuku's M2M JWTs with a second,
# independent implementation.
#
#   source scripts/lib/pyjwt.sh && tuku_pyjwt_python VENV_DIR
#
# Prints the path of a python that can `import jwt, cryptography`: python3 itself when it already can, otherwise
# VENV_DIR/bin/python, creating the virtual environment and installing the two packages on first use.
# Progress goes to standard error; only the path goes to standard output.

tuku_pyjwt_python() {
  local venv="${1:?usage: tuku_pyjwt_python VENV_DIR}"
  if python3 -c 'import jwt, cryptography' >/dev/null 2>&1; then
    command -v python3
    return 0
  fi
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import jwt, cryptography' >/dev/null 2>&1; then
    echo "$venv/bin/python"
    return 0
  fi
  echo "tuku: installing pyjwt and cryptography into $venv" >&2
  python3 -m venv "$venv" >&2 || return 1
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pyjwt cryptography >&2 || return 1
  echo "$venv/bin/python"
}
