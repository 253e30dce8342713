#!/usr/bin/env bash
# Exercise 7 on a CUDA machine, in one go (about 5 minutes on a 16-core H200 server):
#   1. the reference graded with --device cuda and with --device cpu;
#   2. every tests/cases/exercise7 case graded with --device cuda, as one batch of sandboxed
#      workers sharing the GPU (notebook cases are left out when nbformat is not installed);
#   3. the throughput benchmark (benchmarks/bench_ex7_batch.py): --jobs 1 against --jobs $JOBS.
# Each verdict is printed as score/max and the checks that failed; the timed check's line
# says which device trained (and names the GPU).
#
#   benchmarks/gpu_check.sh MNIST_DIR [DEVICE]
#
# MNIST_DIR holds the MNIST IDX files. DEVICE defaults to cuda; `cpu` runs the same steps on
# the CPU (to try the script on a machine without a GPU). Needs python3 with numpy, torch,
# pytest and click; nothing installed (the grader runs from this checkout via PYTHONPATH), no
# bubblewrap (the isolation falls back to plain processes). Environment: JOBS (workers,
# default 8), COPIES (benchmark class size, default 8), REPEATS (benchmark repeats, default 2).
set -euo pipefail

MNIST_DIR=${1:?usage: benchmarks/gpu_check.sh MNIST_DIR [cuda|cpu]}
DEVICE=${2:-cuda}
JOBS=${JOBS:-8}
COPIES=${COPIES:-8}
REPEATS=${REPEATS:-2}
MNIST_DIR=$(cd "$MNIST_DIR" && pwd)
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
WORK=$(mktemp -d /tmp/gpu-check-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

grade() {
    python3 -c 'import sys; from grader.cli import run; sys.argv[0] = "grade"; run()' "$@"
}

# One line per result file: name, score/max, failed checks, and the timed check's device and numbers.
verdicts() {
    python3 - "$@" <<'PY'
import json, sys
from pathlib import Path
for path in map(Path, sys.argv[1:]):
    result = json.loads(path.read_text())
    name = path.parent.name if path.name == "result.json" else path.stem
    failed = [c["name"] for c in result["checks"] if not c["passed"]]
    timed = next((c for c in result["checks"] if c["name"] == "mnist_end_to_end"), None)
    d = (timed or {}).get("details") or {}
    run = (f"  [{d.get('device_note')}: acc {d.get('accuracy')}, {d.get('seconds')} s vs reference "
           f"{d.get('reference_seconds')} s]" if d else "")
    print(f"{name:40} {result['score']:g}/{result['max_score']:g}  failed: {', '.join(failed) or '-'}{run}")
PY
}

echo "== python $(python3 -c 'import sys; print(sys.version.split()[0])'), torch $(python3 -c 'import torch; print(torch.__version__, "cuda available:", torch.cuda.is_available())')"
command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "(no nvidia-smi)"

echo "== 1. the reference"
grade exercise7 --submission reference/exercise7 --device "$DEVICE" --data-dir "$MNIST_DIR" \
    --json "$WORK/reference-$DEVICE.json" >/dev/null
grade exercise7 --submission reference/exercise7 --device cpu --data-dir "$MNIST_DIR" \
    --json "$WORK/reference-cpu.json" >/dev/null
verdicts "$WORK"/reference-*.json

echo "== 2. every case, --device $DEVICE, batch of $JOBS workers"
mkdir "$WORK/cases"
cp -r tests/cases/exercise7/. "$WORK/cases/"
if ! python3 -c 'import nbformat' 2>/dev/null; then
    for notebook_case in $(cd "$WORK/cases" && grep -l --include='*.ipynb' -r . | cut -d/ -f2 | sort -u); do
        echo "(left out $notebook_case: nbformat is not installed)"
        rm -rf "${WORK:?}/cases/$notebook_case"
    done
fi
start=$(date +%s)
grade batch "$WORK/cases" --exercise exercise7 --out "$WORK/batch" --device "$DEVICE" --data-dir "$MNIST_DIR" \
    --jobs "$JOBS" >"$WORK/batch.log" 2>&1 || { cat "$WORK/batch.log"; exit 1; }
echo "(graded in $(( $(date +%s) - start )) s)"
verdicts "$WORK"/batch/*/result.json

echo "== 3. throughput, jobs 1 against jobs $JOBS, $COPIES copies of the reference, $REPEATS repeats"
python3 benchmarks/bench_ex7_batch.py --device "$DEVICE" --jobs "1,$JOBS" --copies "$COPIES" \
    --repeats "$REPEATS" --data-dir "$MNIST_DIR"
