#!/usr/bin/env bash
# Installs what zkinfer's tests need and is missing: Debian packages (Vulkan on Mesa lavapipe
# for the GPU kernels, Chromium for the browser test, Node.js), the wasm32 target, the
# wasm-bindgen CLI at the version Cargo.lock pins, and npm packages from their lockfiles.
# Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

packages=()
dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || packages+=(mesa-vulkan-drivers)
dpkg -s libvulkan1 >/dev/null 2>&1 || packages+=(libvulkan1)
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
if [ ${#packages[@]} -gt 0 ]; then
    echo "setup: installing ${packages[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# The CLI must match the wasm-bindgen crate exactly; no --locked (a locked dependency of the
# CLI is missing from the registry).
want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ -n "$want" ] && [ "$have" != "$want" ]; then
    echo "setup: installing wasm-bindgen-cli $want (a few minutes, once)"
    cargo install -q wasm-bindgen-cli --version "$want"
fi

for dir in verifier/js verifier/sol; do
    # Again when the lockfile changed since the last install (npm keeps its copy in node_modules).
    if [ -f "$dir/package-lock.json" ] && [ ! "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
        npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    fi
done
