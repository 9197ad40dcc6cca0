#!/usr/bin/env bash
# GPU check of `gapscope ingest`: images/s end to end, GPU utilisation and the named bottleneck, per precision.
#
# From a clean checkout on a CUDA box (16 cores; under 5 minutes): makes N synthetic 640x480 JPEGs, installs
# gapscope with its ingest extra (the torch pin in pyproject.toml) into a fresh venv, and runs
# `gapscope ingest` with MODEL (random weights) once per precision, sampling nvidia-smi meanwhile.
#
#   bash bench/gpu_check.sh
#
# Parameters (environment): N (20000), MODEL (open_clip:ViT-B-32), PRETRAINED (none; empty: no --pretrained),
# DEVICE (cuda), PRECISIONS ("bf16 fp16"), BATCH (1024), WORKERS (cores - 1), DRAFT (224; 0: off),
# WORK (scratch folder, /tmp/gapscope-gpu-check), INSTALL (1: make WORK/venv and pip install ".[ingest]";
# 0: use PYTHON as it is), PYTHON (python3). tests/ingest/test_gpu_check.py runs the CPU path with a tiny model.
set -euo pipefail

N="${N:-20000}"
MODEL="${MODEL:-open_clip:ViT-B-32}"
PRETRAINED="${PRETRAINED-none}"
DEVICE="${DEVICE:-cuda}"
PRECISIONS="${PRECISIONS:-bf16 fp16}"
BATCH="${BATCH:-1024}"
WORKERS="${WORKERS:-$(( $(nproc) > 1 ? $(nproc) - 1 : 1 ))}"
DRAFT="${DRAFT:-224}"
WORK="${WORK:-/tmp/gapscope-gpu-check}"
INSTALL="${INSTALL:-1}"
PYTHON="${PYTHON:-python3}"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
mkdir -p "$WORK"
started=$(date +%s)

if [ "$INSTALL" = "1" ]; then
    "$PYTHON" -m venv "$WORK/venv"
    "$WORK/venv/bin/python" -m pip install -q --upgrade pip
    "$WORK/venv/bin/python" -m pip install -q ".[ingest]"
    PYTHON="$WORK/venv/bin/python"
    echo "installed gapscope[ingest] in $WORK/venv ($(( $(date +%s) - started )) s)"
fi

"$PYTHON" bench/bench_ingest.py images --folder "$WORK/data" --n "$N"
pretrained=()
[ -n "$PRETRAINED" ] && pretrained=(--pretrained "$PRETRAINED")

for precision in $PRECISIONS; do
    rm -rf "$WORK/store-$precision"
    sampler=""
    if command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 500 > "$WORK/gpu-$precision.txt" &
        sampler=$!
    else
        : > "$WORK/gpu-$precision.txt"
    fi
    "$PYTHON" -m dashboard.cli ingest --store "$WORK/store-$precision" --dataset-type generic --source "$WORK/data" \
        --model "$MODEL" "${pretrained[@]}" --device "$DEVICE" --precision "$precision" --batch-size "$BATCH" \
        --workers "$WORKERS" --draft "$DRAFT" --no-precompute --no-progress > "$WORK/report-$precision.json"
    [ -n "$sampler" ] && kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null || true
    "$PYTHON" - "$WORK/report-$precision.json" "$WORK/gpu-$precision.txt" "$precision" "$WORKERS" <<'EOF'
import json, sys
report, samples, precision, workers = json.load(open(sys.argv[1])), open(sys.argv[2]).read().split(), sys.argv[3], sys.argv[4]
timing, values = report["timing"], [float(v) for v in samples if v.replace(".", "", 1).isdigit()]
names = {"decode": f"decoding ({workers} workers, CPU)", "model": "the model (GPU)", "write": "store writes"}
gpu = f"mean {sum(values) / len(values):.0f} %, max {max(values):.0f} % ({len(values)} samples)" if values else "n/a (no nvidia-smi)"
print(f"{precision}: {report['embedded']} images in {report['seconds']:.1f} s = {report['items_per_second']:.1f} images/s "
      f"end to end (model load included); {report['bad_count']} bad")
print(f"{precision}: GPU utilisation {gpu}")
print(f"{precision}: ms/batch {timing['ms_per_batch']}; bottleneck: {names.get(timing['bottleneck'], timing['bottleneck'])}")
EOF
done
echo "gpu check done in $(( $(date +%s) - started )) s"
