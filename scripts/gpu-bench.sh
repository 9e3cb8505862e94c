#!/usr/bin/env bash
# The GPU backend measured on a lent H100/H200 device machine, in two `run` calls.
#
# The device machine has no crates.io and no apt, so everything is built HERE and carried:
#
#   1. Here, from the repository root (about 4 minutes from a warm target directory, 10 cold):
#
#        scripts/gpu-bench.sh build
#
#      It builds in release (CARGO_TARGET_DIR, default /tmp/target-gpu) the kernel benchmark,
#      the fixture benchmark and the GPU tests, copies them stripped into target/gpu-bench/
#      (ignored by git through /target), downloads the Vulkan loader and its GL neighbours as
#      amd64 .debs into target/gpu-bench/gl/, and prints the size, about 25 MiB: with the
#      tracked tree (about 3 MiB) well inside the 64 MiB that a call carries.
#
#   2. Two device calls, each within the 10 minutes of one (estimates: about 4 and 8 minutes):
#
#        run(command="bash scripts/gpu-bench.sh check tests fixtures", carry=["target/gpu-bench"], timeout_s=600)
#        run(command="bash scripts/gpu-bench.sh check kernels", carry=["target/gpu-bench"], timeout_s=600)
#
#      ("all" is both in one call, which fits only with fewer arithmetics: GPU_BENCH_FIELDS=u16.)
#      The kernel benchmark runs once per field arithmetic of the GPU backend (ZKINFER_GPU_FIELD,
#      GPU_BENCH_FIELDS) that the adapter runs: the first run with arkworks and the CPU backend,
#      the others the GPU alone. The files come back under $OUT (at most 8):
#        env.txt      the GPU, driver, CPU, and the adapter wgpu chose with its kernel clock, once
#                     per arithmetic (or why the adapter cannot run it)
#        tests.log    the GPU correctness tests (prover/tests/gpu.rs) on the real adapter, every
#                     arithmetic it runs
#        kernels.md   MSM/FFT/iFFT/coset FFT per size: arkworks, CPU backend, GPU backend with each
#                     arithmetic, and per arithmetic the GPU's time split per call (upload, wait,
#                     kernel, readback, stages)
#        kernels.log  criterion's whole output
#        fixtures.md  every bundled model proved on the CPU and on the GPU (ZKINFER_GPU_FIELD, u16
#                     unless set), with the GPU split
#        fixtures.log its stderr
#
# Steps: build (here only), check, tests, kernels, fixtures; "all" is check tests kernels
# fixtures. Variables: GPU_BENCH_ADAPTER (default nvidia: the adapter whose name must contain
# it), GPU_BENCH_LOG_N (kernel sizes, default 16-20), GPU_BENCH_FIELDS (the arithmetics, in
# order, default "u16 u64 u13 u14 u15"), GPU_BENCH_KERNELS_S (seconds for all the kernel runs,
# default 480: a run that would start later is left out, one under way is cut short, and what
# finished is tabled), GPU_BENCH_RUNS (proofs per model and backend, default 3),
# GPU_BENCH_FIXTURES (default all models). To try the whole thing here on lavapipe:
# GPU_BENCH_ADAPTER=llvmpipe GPU_BENCH_LOG_N=8 GPU_BENCH_FIXTURES=tiny_mlp GPU_BENCH_FIELDS="u16 u64"
# scripts/gpu-bench.sh check kernels fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE=target/gpu-bench
OUT="${OUT:-$STAGE/out}"
mkdir -p "$OUT"

build() {
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/target-gpu}"
    rm -rf "$STAGE" && mkdir -p "$STAGE/gl"
    # The executables cargo reports, by target name.
    local built
    built=$( {
        cargo bench --no-run --bench kernels --bench fixtures --message-format=json
        cargo test --release -p zkinfer-prover --test gpu --no-run --message-format=json
    } | jq -r 'select(.reason == "compiler-artifact" and .executable != null) | "\(.target.name) \(.executable)"')
    for name in kernels fixtures gpu; do
        local exe
        exe=$(awk -v n="$name" '$1 == n { print $2 }' <<<"$built" | tail -1)
        [ -n "$exe" ] || { echo "no executable for $name in cargo's output" >&2; exit 1; }
        strip -o "$STAGE/$name" "$exe"
    done
    mv "$STAGE/gpu" "$STAGE/gpu-tests"
    # The device README's recipe: the loader and the GL libraries NVIDIA's ICD may load, amd64.
    local apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    mkdir -p /tmp/amd64/partial
    apt-get "${apt[@]}" update >/dev/null
    (cd "$STAGE/gl" && apt-get "${apt[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
    du -sh "$STAGE"
    echo "carry: target/gpu-bench   (run: bash scripts/gpu-bench.sh all)"
}

# The Vulkan loader where the machine has none, NVIDIA's ICD where it has one.
vulkan() {
    # (grep without -q: an early exit would kill ldconfig with SIGPIPE, failing the pipeline.)
    if ! ldconfig -p | grep 'libvulkan.so.1 ' >/dev/null; then
        for f in "$STAGE"/gl/*.deb; do dpkg -x "$f" /; done
        ldconfig
    fi
    local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    if [ -f "$icd" ]; then
        export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
        export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    fi
    export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
    # Every step uses the adapter named here, or fails naming the adapters there are.
    export WGPU_ADAPTER_NAME="${GPU_BENCH_ADAPTER:-nvidia}"
    export CRITERION_HOME=/tmp/criterion
}

check() {
    {
        date -u
        nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu --format=csv 2>&1 || true
        echo "cpu: $(nproc) threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
        ldd --version | sed -n 1p
        ldconfig -p | grep libvulkan || true
        echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
        # Empty criterion runs: the bench only picks its adapter, builds the kernels with one
        # arithmetic and says so, or why it cannot.
        for field in $FIELDS; do
            ZKINFER_GPU_FIELD=$field ZKINFER_BENCH_GPU=1 ZKINFER_BENCH_LOG_N=1 "$STAGE/kernels" --bench '^no benchmark$' 2>&1 | grep -i -E 'benchmarking|adapter|error|panicked' || true
        done
    } 2>&1 | tee "$OUT/env.txt"
    grep -q '^benchmarking gpu' "$OUT/env.txt" || { echo "wgpu did not take a '$WGPU_ADAPTER_NAME' adapter: see above" >&2; exit 1; }
}

# The arithmetics of GPU_BENCH_FIELDS that check found the adapter runs; all of them without check.
runnable() {
    local field
    for field in $FIELDS; do
        if [ ! -f "$OUT/env.txt" ] || grep -q "^benchmarking gpu (.*, $field) " "$OUT/env.txt"; then
            echo "$field"
        fi
    done
}

tests() {
    timeout 240 "$STAGE/gpu-tests" --test-threads 4 2>&1 | tee "$OUT/tests.log"
}

kernels() {
    local rc=0 field filter=() deadline=$((SECONDS + ${GPU_BENCH_KERNELS_S:-480}))
    : >"$OUT/kernels.log"
    for field in $(runnable); do
        if [ $((deadline - SECONDS)) -lt 30 ]; then
            echo "kernels with $field left out: GPU_BENCH_KERNELS_S is spent" | tee -a "$OUT/kernels.log" >&2
            rc=1
            continue
        fi
        ZKINFER_GPU_FIELD=$field ZKINFER_BENCH_GPU=1 ZKINFER_BENCH_LOG_N="${GPU_BENCH_LOG_N:-16-20}" \
            timeout $((deadline - SECONDS)) "$STAGE/kernels" --bench "${filter[@]}" 2>&1 | tee -a "$OUT/kernels.log" || rc=$?
        # arkworks and the CPU backend once; the other arithmetics' runs only the GPU's benchmarks.
        filter=(/gpu)
    done
    # What finished is tabled even when the run did not.
    python3 - "$OUT/kernels.log" >"$OUT/kernels.md" <<'EOF'
import re, sys
"""criterion's point estimates as one table per group; then the bench's own GPU split table."""
text = open(sys.argv[1]).read().splitlines()
unit = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}
results, current = {}, None
for line in text:
    if line.startswith("Benchmarking "):
        continue
    head = re.match(r"^(\S.*?/2\^\d+)\s*(time:.*)?$", line)
    if head:
        current, line = head.group(1), head.group(2) or ""
    estimate = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
    if estimate and current:
        group, size = current[: current.index("/")], current[current.rindex("/") + 1 :]
        backend = current[len(group) + 1 : current.rindex("/")]
        results.setdefault(group, {}).setdefault(size, {})[backend] = float(estimate.group(1)) * unit[estimate.group(2)]
        current = None
for group, sizes in results.items():
    backends = sorted({b for row in sizes.values() for b in row}, key=lambda b: (not b.startswith("arkworks"), b))
    cpu = next((b for b in backends if b.startswith("cpu")), None)
    # One GPU backend per field arithmetic, named by it: "gpu (adapter, Vulkan, u16)".
    gpus = [b for b in backends if b.startswith("gpu")] if cpu else []
    arith = lambda b: b[b.rindex(", ") + 2 : -1]
    print(f"\n## {group}: ms per call (criterion's estimate, wall time)\n")
    print("| size | " + " | ".join(backends + [f"CPU / GPU {arith(g)}" for g in gpus]) + " |")
    print("|---" * (len(backends) + len(gpus) + 1) + "|")
    for size, row in sorted(sizes.items(), key=lambda kv: int(kv[0][2:])):
        cells = [f"{row[b]:.3f}" if b in row else "-" for b in backends]
        cells += [f"{row[cpu] / row[g]:.2f}x" if cpu in row and g in row else "-" for g in gpus]
        print(f"| {size} | " + " | ".join(cells) + " |")
# Each run's split table, to its last row.
table = ("#", "|", "Averages", "(", "twiddles")
for start in [i for i, line in enumerate(text) if line.startswith("# GPU time split")]:
    end = start
    while end < len(text) and (text[end].strip() == "" or text[end].startswith(table)):
        end += 1
    print("\n" + "\n".join(text[start:end]).rstrip())
EOF
    cat "$OUT/kernels.md"
    return $rc
}

fixtures() {
    local env=(ZKINFER_BENCH_GPU=1 ZKINFER_BENCH_RUNS="${GPU_BENCH_RUNS:-3}")
    [ -n "${GPU_BENCH_FIXTURES:-}" ] && env+=(ZKINFER_BENCH_FIXTURES="$GPU_BENCH_FIXTURES")
    env "${env[@]}" timeout 300 "$STAGE/fixtures" 2>"$OUT/fixtures.log" | tee "$OUT/fixtures.md"
}

FIELDS="${GPU_BENCH_FIELDS:-u16 u64 u13 u14 u15}"
steps=("$@")
[ ${#steps[@]} -gt 0 ] || { sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 2; }
[ "${steps[*]}" = all ] && steps=(check tests kernels fixtures)
for step in "${steps[@]}"; do
    case "$step" in
        build | check | tests | kernels | fixtures) ;;
        *) echo "unknown step '$step': build, check, tests, kernels, fixtures or all" >&2; exit 2 ;;
    esac
done
failed=()
ready=
for step in "${steps[@]}"; do
    echo "== $step ($(date -u +%T))" >&2
    if [ "$step" = build ]; then
        build
        continue
    fi
    [ -f "$STAGE/kernels" ] || { echo "$STAGE/kernels is missing: run 'scripts/gpu-bench.sh build' here and carry $STAGE" >&2; exit 1; }
    chmod +x "$STAGE/kernels" "$STAGE/fixtures" "$STAGE/gpu-tests"
    [ -n "$ready" ] || { vulkan; ready=1; }
    # Without an adapter nothing else can run; a failed test or bench leaves the others to run.
    if [ "$step" = check ]; then
        check
    else
        "$step" || failed+=("$step")
    fi
done
[ ${#failed[@]} -eq 0 ] || { echo "failed: ${failed[*]}" | tee -a "$OUT/env.txt" >&2; exit 1; }
