#!/usr/bin/env python3
"""EZKL and zkinfer side by side on the same ONNX fixtures.

Runs every step of each tool as its own process under `/usr/bin/time -v` and prints a
markdown table of wall time and peak resident memory per step, with the load average
before and after (the machines are shared; a busy neighbour shows there).

    python3 -m venv /tmp/ezkl-venv && /tmp/ezkl-venv/bin/pip install -r benches/ezkl/requirements.txt
    cargo build --release --bin zkinfer
    /tmp/ezkl-venv/bin/python benches/ezkl/compare.py [--zkinfer PATH] [--target T] [FIXTURE ...]

Both tools get the same input privacy: input private, output public, weights fixed in the
verifying key; both calibrate on the fixture's `input.json` with the same `--target`
(resources or accuracy, which each tool maps to its own scales; `--zkinfer-target` gives
zkinfer another, e.g. its `balanced`, which EZKL lacks) and use an insecure SRS made on the spot (EZKL's `get_srs` downloads, which these machines cannot). The table also gives
each tool's largest absolute error of the proven outputs against onnxruntime's
(`fixtures/NAME/output.json`).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FIXTURES = ["mnist_mlp", "digits_cnn"]


def symbolic_dims(model):
    """The names of the model inputs' symbolic dimensions."""
    import onnx

    graph = onnx.load(model, load_external_data=False).graph
    return sorted({d.dim_param for i in graph.input for d in i.type.tensor_type.shape.dim if d.dim_param})


def ezkl_step(step, work, model, data, target):
    """One EZKL step, in this process (the parent measures it)."""
    import ezkl

    w = Path(work)
    if step == "import":
        return
    if step == "gen-settings":
        args = ezkl.PyRunArgs()
        args.input_visibility = "private"
        args.output_visibility = "public"
        args.param_visibility = "fixed"
        # Every symbolic dimension (a batch) is 1, as zkinfer binds an unnamed or unbound first
        # dimension; EZKL binds only `batch_size` by default and fails on any other name.
        args.variables = [(name, 1) for name in symbolic_dims(model)] or [("batch_size", 1)]
        ok = ezkl.gen_settings(model, str(w / "settings.json"), py_run_args=args)
    elif step == "calibrate":
        ok = ezkl.calibrate_settings(data, model, str(w / "settings.json"), target)
    elif step == "compile":
        ok = ezkl.compile_circuit(model, str(w / "model.compiled"), str(w / "settings.json"))
    elif step == "gen-srs":
        logrows = json.loads((w / "settings.json").read_text())["run_args"]["logrows"]
        ezkl.gen_srs(str(w / "kzg.srs"), logrows)
        ok = True
    elif step == "setup":
        ok = ezkl.setup(str(w / "model.compiled"), str(w / "vk.key"), str(w / "pk.key"), str(w / "kzg.srs"))
    elif step == "witness":
        ok = ezkl.gen_witness(data, str(w / "model.compiled"), str(w / "witness.json"), str(w / "vk.key"), str(w / "kzg.srs"))
    elif step == "prove":
        ok = ezkl.prove(str(w / "witness.json"), str(w / "model.compiled"), str(w / "pk.key"), str(w / "proof.json"), str(w / "kzg.srs"))
    elif step == "verify":
        ok = ezkl.verify(str(w / "proof.json"), str(w / "settings.json"), str(w / "vk.key"), str(w / "kzg.srs"))
    else:
        sys.exit(f"unknown EZKL step {step}")
    if not ok:
        sys.exit(f"EZKL {step} returned {ok!r}")


class StepFailed(Exception):
    """A step of one tool failed: the tool, the step and the last line of its error."""

    def __init__(self, tool, step, reason):
        super().__init__(f"{tool} {step}: {reason}")
        self.tool, self.step, self.reason = tool, step, reason


def timed(cmd, log, tool, step):
    """Runs `cmd` under /usr/bin/time -v; returns (seconds, peak MB, stdout)."""
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}\n{p.stdout}\n{p.stderr}\n")
    if p.returncode != 0:
        errors = [line for line in (p.stdout + p.stderr).splitlines() if "Error" in line or "error" in line]
        raise StepFailed(tool, step, (errors or [f"exit {p.returncode}"])[-1].strip() + f" (see {log})")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", p.stderr).group(1)
    seconds = sum(float(part) * 60**i for i, part in enumerate(reversed(wall.split(":"))))
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return seconds, kb / 1024, p.stdout


def load():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_fixture(name, zkinfer, work, target, zk_target, log):
    model = str(ROOT / "fixtures" / name / "model.onnx")
    data = str(ROOT / "fixtures" / name / "input.json")
    ez, zk = Path(work) / "ezkl", Path(work) / "zkinfer"
    ez.mkdir(parents=True)
    rows = []  # (step, ezkl (s, MB) or None, zkinfer (s, MB) or None)

    me = [sys.executable, __file__, "--ezkl-step"]
    ezkl = lambda step: timed([*me, step, str(ez), model, data, target], log, "EZKL", step)[:2]
    z = lambda *args: timed([zkinfer, "--json", *args], log, "zkinfer", args[0])

    rows.append(("python + import ezkl (in every EZKL step)", ezkl("import"), None))
    rows.append(("gen-settings", ezkl("gen-settings"), None))
    rows.append(("calibrate", ezkl("calibrate"), None))
    # The same target on both sides by default, so that resources meets resources and
    # accuracy accuracy.
    compiled = z("compile", model, "-o", str(zk), "--calibration", data, "--target", zk_target)
    rows.append(("compile (zkinfer: with calibration)", ezkl("compile"), compiled[:2]))
    k = json.loads(compiled[2])["report"]["k"]
    srs = z("srs", "gen", "--k", str(k), "-o", str(zk / "dev.srs"))
    rows.append(("insecure SRS", ezkl("gen-srs"), srs[:2]))
    rows.append(("setup", ezkl("setup"), z("setup", str(zk), "--srs", str(zk / "dev.srs"), "--backend", "cpu")[:2]))
    rows.append(("witness", ezkl("witness"), None))
    proved = z("prove", str(zk), "--input", data, "-o", str(zk / "proof.json"), "--backend", "cpu")
    rows.append(("prove (zkinfer: with witness)", ezkl("prove"), proved[:2]))
    verified = z("verify", str(zk / "vk.bin"), str(zk / "proof.json"))
    rows.append(("verify", ezkl("verify"), verified[:2]))

    settings = json.loads((ez / "settings.json").read_text())
    ezkl_proof = json.loads((ez / "proof.json").read_text())
    ezkl_bytes = len(bytes.fromhex(ezkl_proof["hex_proof"].removeprefix("0x"))) if "hex_proof" in ezkl_proof else len(ezkl_proof["proof"])
    # The proven outputs: EZKL's public outputs rescaled to floats in the proof file (the
    # witness holds the same before proving); zkinfer's as `prove` reports them, and `verify`
    # decodes them again from the proof's public values. Every output tensor, flattened.
    ezkl_out = [float(v) for t in ezkl_proof["pretty_public_inputs"]["rescaled_outputs"] for v in t]
    witness = json.loads((ez / "witness.json").read_text())
    if ezkl_out != [float(v) for t in witness["pretty_elements"]["rescaled_outputs"] for v in t]:
        raise RuntimeError(f"EZKL's proof and witness disagree on the outputs of {name}")
    zk_out = [v for t in json.loads(proved[2])["outputs"] for v in t["values"]]
    if zk_out != [v for t in json.loads(verified[2])["outputs"] for v in t["values"]]:
        raise RuntimeError(f"zkinfer's prove and verify disagree on the outputs of {name}")
    # onnxruntime's float outputs, saved with the fixture: the reference for both tools.
    reference = [float(v) for t in json.loads((ROOT / "fixtures" / name / "output.json").read_text())["output_data"] for v in t]
    for tool, out in (("EZKL", ezkl_out), ("zkinfer", zk_out)):
        if len(out) != len(reference):
            raise RuntimeError(f"{tool} proved {len(out)} outputs of {name}, onnxruntime gave {len(reference)}")
    max_error = lambda out: max(abs(a - b) for a, b in zip(out, reference))
    argmax = lambda out: max(range(len(out)), key=out.__getitem__)
    facts = {
        "rows": (f"2^{settings['run_args']['logrows']}", f"2^{k}"),
        "scale (bits)": (f"input {settings['run_args']['input_scale']}, params {settings['run_args']['param_scale']}", json.loads(compiled[2])["settings"]["scale_bits"]),
        "proof bytes": (ezkl_bytes, json.loads(proved[2])["proof_bytes"]),
        # repr, not a rounded figure: the errors are compared digit by digit.
        "largest abs error vs onnxruntime": (repr(max_error(ezkl_out)), repr(max_error(zk_out))),
        f"argmax of output (onnxruntime: {argmax(reference)})": (argmax(ezkl_out), argmax(zk_out)),
    }
    return rows, facts


def table(name, targets, rows, facts, before, after, version):
    cell = lambda m: "-" if m is None else f"{m[0]:.2f} s / {m[1]:.0f} MB"
    lines = [
        f"### {name}, target {targets} (load average before {before}, after {after})",
        "",
        f"| step | EZKL {version} | zkinfer |",
        "|---|---|---|",
    ]
    lines += [f"| {step} | {cell(e)} | {cell(z)} |" for step, e, z in rows]
    total = lambda i: sum(r[i][0] for r in rows[1:] if r[i] is not None)
    lines.append(f"| **total** (wall, without the bare import) | **{total(1):.2f} s** | **{total(2):.2f} s** |")
    peak = lambda i: max(r[i][1] for r in rows[1:] if r[i] is not None)
    lines.append(f"| **peak memory** of any step | **{peak(1):.0f} MB** | **{peak(2):.0f} MB** |")
    lines += [f"| {fact} | {e} | {z} |" for fact, (e, z) in facts.items()]
    return "\n".join(lines)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--ezkl-step":
        return ezkl_step(*sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures", nargs="*", default=DEFAULT_FIXTURES, help=f"fixture names under fixtures/ (default: {' '.join(DEFAULT_FIXTURES)})")
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    parser.add_argument("--zkinfer", default=str(target_dir / "release" / "zkinfer"), help="the zkinfer binary (default: $CARGO_TARGET_DIR/release/zkinfer)")
    parser.add_argument("--target", default="resources", choices=["resources", "accuracy"], help="calibration target of both tools: EZKL's calibrate and zkinfer's compile")
    parser.add_argument("--zkinfer-target", choices=["resources", "balanced", "accuracy"], help="zkinfer's compile target when it should differ from --target")
    parser.add_argument("--work", help="keep every file here instead of a temporary directory")
    args = parser.parse_args()
    if not Path(args.zkinfer).is_file():
        sys.exit(f"no zkinfer binary at {args.zkinfer}: run `cargo build --release --bin zkinfer` or give --zkinfer")
    if not Path("/usr/bin/time").is_file():
        sys.exit("needs GNU time at /usr/bin/time (apt-get install time)")
    version = subprocess.run([sys.executable, "-c", "import importlib.metadata as m; print(m.version('ezkl'))"], capture_output=True, text=True).stdout.strip()
    if not version:
        sys.exit(f"{sys.executable} cannot import ezkl: pip install -r {Path(__file__).parent / 'requirements.txt'}")

    work = Path(args.work or tempfile.mkdtemp(prefix="zkinfer-vs-ezkl-"))
    log = work / "log.txt"
    print(f"machine: {os.cpu_count()} cores; logs in {log}\n", file=sys.stderr)
    for name in args.fixtures:
        before = load()
        zk_target = args.zkinfer_target or args.target
        targets = args.target if zk_target == args.target else f"EZKL {args.target}, zkinfer {zk_target}"
        try:
            rows, facts = run_fixture(name, args.zkinfer, work / name, args.target, zk_target, log)
        except StepFailed as e:
            # A model one tool cannot take is a result too: say which step failed and why.
            print(f"### {name}, target {targets}\n\n{e.tool} fails at {e.step}: {e.reason}\n", flush=True)
            continue
        print(table(name, targets, rows, facts, before, load(), version) + "\n", flush=True)


if __name__ == "__main__":
    main()
