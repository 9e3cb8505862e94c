#!/usr/bin/env python3
"""The per-fixture table of BENCHMARKS.md: every bundled model compiled (calibrated on its sample
input), set up with a development SRS, proved and verified through the release CLI, each step
timed by /usr/bin/time (wall, CPU, peak memory).

    cargo build --release && python3 scripts/bench_fixtures.py [--backend cpu] [--runs 3] [--optimize evm] [--target balanced|accuracy|resources] [FIXTURE...]

Prove and verify take the fastest of --runs runs (wall time; CPU time and peak memory of that
run). Accuracy is the largest |circuit output - onnxruntime output| on the sample input, from
the committed fixtures/NAME/output.json. Prints markdown on stdout, progress on stderr.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = ["tiny_mlp", "digits_mlp", "digits_cnn", "sigmoid_tanh_mlp", "softmax_bn", "mnist_mlp", "slice_pad"]


def timed(cmd):
    """Runs cmd with --json; returns (parsed stdout, wall s, cpu s, peak MiB)."""
    with tempfile.NamedTemporaryFile("r") as t:
        out = subprocess.run(["/usr/bin/time", "-o", t.name, "-f", "%e %U %S %M", *cmd], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
        wall, user, sys_, rss = t.read().split()[-4:]
    return json.loads(out.stdout), float(wall), float(user) + float(sys_), int(rss) / 1024


def best(runs, cmd):
    return min((timed(cmd) for _ in range(runs)), key=lambda r: r[1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fixtures", nargs="*", default=FIXTURES)
    p.add_argument("--backend", default="cpu")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--optimize", default="proving", help="the layout's aim: proving, or evm (packed, narrowest layout)")
    p.add_argument("--target", default="balanced", help="the scale's aim: balanced (the default), accuracy or resources")
    p.add_argument("--zkinfer", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "zkinfer"))
    a = p.parse_args()
    z = [a.zkinfer, "--json"]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in a.fixtures:
            print(f"{name} ...", file=sys.stderr)
            fx = os.path.join(ROOT, "fixtures", name)
            out = os.path.join(work, name)
            compiled, c_wall, _, _ = timed([*z, "compile", os.path.join(fx, "model.onnx"), "-o", out, "--calibration", os.path.join(fx, "input.json"), "--optimize", a.optimize, "--target", a.target])
            _, s_wall, s_cpu, s_rss = timed([*z, "setup", out, "--dev-srs", "--backend", a.backend])
            proof = os.path.join(out, "proof.json")
            proved, p_wall, p_cpu, p_rss = best(a.runs, [*z, "prove", out, "--input", os.path.join(fx, "input.json"), "-o", proof, "--backend", a.backend])
            verified, _, _, _ = best(a.runs, [*z, "verify", os.path.join(out, "vk.bin"), proof])
            assert verified["verified"], verified
            want = json.load(open(os.path.join(fx, "output.json")))["output_data"][0]
            got = [v for o in proved["outputs"] for v in o["values"]]
            error = max(abs(g - w) for g, w in zip(got, want))
            r = compiled["report"]
            rows.append(
                f"| {name} | 2^-{compiled['settings']['scale_bits']} | 2^{r['k']} ({r['rows_used']:,} used) | {compiled['settings']['pack']} | {r['advice_columns']} / {r['fixed_columns']} / {r['permutation_columns']} "
                f"| {c_wall:.2f} | {s_wall:.2f} ({s_rss:.0f}) | {p_wall:.2f} | {p_cpu:.2f} | {p_rss:.0f} | {proved['proof_bytes']:,} "
                f"| {verified['verify_seconds'] * 1000:.1f} | {error:.2e} |"
            )
    print("| model | scale | rows | pack | advice / fixed / copy columns | compile s | setup s (MiB) | prove s | prove CPU s | prove peak MiB | proof bytes | verify ms | max abs error vs onnxruntime |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
