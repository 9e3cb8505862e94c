#!/usr/bin/env bash
# The real-exporter corpus (fixtures/exports) end to end: for each model, compile with its
# sample input as calibration, set up with a dev SRS, `zkinfer bench` one proof after a warm-up
# (CPU backend), then a timed `prove` process (wall seconds and peak resident KiB from
# /usr/bin/time) and `verify`. Prints one line per model:
#   name k rows_used bench_median_s bench_peak_mib prove_wall_s prove_peak_kib verified
# Needs target/release/zkinfer (cargo build --release) and GNU time (apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/.."
z=target/release/zkinfer
out=$(mktemp -d)
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
for d in fixtures/exports/*/; do
    name=$(basename "$d")
    dir="$out/$name"
    report=$("$z" --json compile "$d/model.onnx" -o "$dir" --calibration "$d/input.json")
    rows=$(echo "$report" | python3 -c 'import json, sys; r = json.load(sys.stdin)["report"]; print(r["k"], r["rows_used"])')
    "$z" --json setup "$dir" --dev-srs --backend cpu >/dev/null
    bench=$("$z" --json bench "$dir" --input "$d/input.json" --backend cpu --runs 1 | python3 -c 'import json, sys; b = json.load(sys.stdin); print(b["rows"][0]["median"], b.get("peak_rss_mib"))')
    /usr/bin/time -f "%e %M" -o "$dir/time" "$z" --json prove "$dir" --input "$d/input.json" -o "$dir/proof.json" --backend cpu >/dev/null
    verified=$("$z" --json verify "$dir" "$dir/proof.json" | python3 -c 'import json, sys; print(json.load(sys.stdin)["verified"])')
    echo "$name $rows $bench $(cat "$dir/time") $verified"
done
rm -rf "$out"
