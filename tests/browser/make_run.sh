#!/usr/bin/env bash
# The small trained run the browser tests serve and whose report they open: the shipped HAM10000
# sample at 64 px, two short epochs (as tests/core/pipeline_test.cpp), evaluated on test, reported;
# and RUN_DIR-metadata, its copy with a known classifier that reads age, sex and site
# (tests/support/add_metadata_card.py), for the page's optional fields.
#   bash make_run.sh DERMSIM_BINARY RUN_DIR
set -euo pipefail
dermsim=$1
run=$2
data="$(cd "$(dirname "$0")/../../data/ham10000" && pwd)"
rm -rf "$run" "$run-metadata"
"$dermsim" prepare --data "$data" --out "$run" --image-size 64
"$dermsim" train --run "$run" --epochs 2 --images-per-class 8 --embed-dim 32 --threads 2
"$dermsim" evaluate --run "$run" --split test
"$dermsim" report --run "$run"
cp -r "$run" "$run-metadata"
python3 "$(dirname "$0")/../support/add_metadata_card.py" "$run-metadata"
