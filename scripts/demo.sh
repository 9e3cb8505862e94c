#!/usr/bin/env bash
# The main job: compile the bundled digits CNN, make keys with a development SRS (insecure:
# for demos only), prove one inference on a held-out digit, and verify the proof.
set -euo pipefail
cd "$(dirname "$0")/.."
# A 0700 runtime directory keeps Mesa's Vulkan driver quiet when --backend auto looks for a GPU.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
cargo build --release -q
z=target/release/zkinfer
out=${1:-target/demo}
model=fixtures/digits_cnn
$z compile $model/model.onnx -o "$out" --calibration $model/input.json
$z setup "$out" --dev-srs
$z prove "$out" --input $model/input.json -o "$out/proof.json"
$z verify "$out/vk.bin" "$out/proof.json"
echo "onnxruntime's float output: $(cat $model/output.json)"
