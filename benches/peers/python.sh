# Sourced by the peers scripts: pyenv_python MINOR prints the newest pyenv CPython of that
# minor version (e.g. 3.12), else python3.X from PATH; fails with a message when there is none.
pyenv_python() {
  local v; v="$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1"* 2>/dev/null | sort -V | tail -1 || true)"
  if [ -n "$v" ]; then echo "$v/bin/python$1"; return; fi
  command -v "python$1" || { echo "no Python $1 (pyenv install $1, or apt-get install python$1-venv)" >&2; return 1; }
}
