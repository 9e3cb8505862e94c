#!/usr/bin/env bash
# Every test: installs what is missing (scripts/setup.sh), checks formatting (rustfmt.toml)
# and lints (clippy, warnings as errors), then the Rust workspace (the
# GPU kernels run on Mesa lavapipe when there is no GPU; the EVM tests compile with solc from
# verifier/sol and run in revm), then the WASM verifier in Node and in headless Chromium, then
# the Hardhat example (examples/hardhat).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# A 0700 runtime directory keeps Mesa's Vulkan driver quiet.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# A clean build gains nothing from the release profile's incremental data, which would add
# about 850 MB to target/ (a CI run on a full disk failed for it).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
cargo fmt --check
cargo clippy --workspace --all-targets --release -- -D warnings
cargo test --workspace --release
npm --prefix verifier/js run build
npm --prefix verifier/js test
# The Hardhat 3 example: the generated verifier and a consumer contract, on fixtures/proofs.
npm --prefix examples/hardhat test
