#!/usr/bin/env bash
# Builds the wheel that Dataflow workers install (Beam's --setup_file), installs it into a fresh
# virtual environment outside the checkout and runs a small `prepare wikipedia` and `prepare
# stackexchange` from it on the built-in sample, so that a module or data file missing from the
# wheel fails here, not on workers.
# Usage: scripts/check_wheel.sh   (after scripts/setup.sh; PYTHON: the Python 3.11 for the fresh venv)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
builder=.venv/bin/python  # has pip; a system python3 may not
[ -x "$builder" ] || builder="$python"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "check_wheel: building the wheel"
"$builder" -m pip wheel --disable-pip-version-check -q --no-deps -w "$work/dist" .
wheels=("$work"/dist/llama_data-*.whl)
[ -f "${wheels[0]}" ] || { echo "check_wheel: no wheel built" >&2; exit 1; }

echo "check_wheel: installing ${wheels[0]##*/} into a fresh virtual environment"
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --disable-pip-version-check -q)
# torch first and pinned, as scripts/setup.sh does: an unpinned resolve would fetch a CUDA build.
"${pip[@]}" install "torch==2.13.0"
"${pip[@]}" install "${wheels[0]}"

# Away from the checkout, so that nothing is imported from it: only what the wheel installed.
cd "$work"
samples="$(venv/bin/python -c 'from llama_data import samples; print(samples.SAMPLES_DIR)')"
case "$samples" in "$work"/venv/*) ;; *) echo "check_wheel: llama_data imported from $samples" >&2; exit 1;; esac
venv/bin/llama-data prepare wikipedia --input "$samples/wikipedia/enwiki-sample-pages-articles.xml" \
  --output release --direct_num_workers=1 --direct_running_mode=in_memory
venv/bin/llama-data prepare stackexchange --input "$samples/stackexchange/textcraft.example/Posts.xml" \
  --output release --direct_num_workers=1 --direct_running_mode=in_memory
venv/bin/python - <<'PY'
from llama_data import manifest, samples

for source in ("wikipedia", "stackexchange"):
    entry = manifest.load("release").sources[source]
    entry.funnel.check()
    assert entry.funnel.kept > 0 and entry.shards, entry.funnel
    print(f"check_wheel: ok, {source}: {entry.funnel.kept} documents in {len(entry.shards)} "
          "shard(s) from the wheel")
assert len(samples.github_repositories()) == 2, "the GitHub sample is missing from the wheel"
PY
