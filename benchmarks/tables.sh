#!/usr/bin/env bash
# Every table of RESULTS.md and BENCHMARKS.md, rewritten from the records under results/;
# measures nothing and needs no GPU. After it, `git diff RESULTS.md BENCHMARKS.md` is empty
# unless a record changed (tests/test_tables.py checks that on a copy of the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python="${PYTHON:-python}"
"$python" benchmarks/results_md.py --write-md
"$python" benchmarks/runtime_cpu.py --md-only >/dev/null
"$python" benchmarks/runtime_gpu.py --md-only >/dev/null
"$python" benchmarks/compile_speed.py --md-only >/dev/null
"$python" benchmarks/neural_speed.py --md-only >/dev/null
"$python" benchmarks/cost_curves.py --md-only >/dev/null
