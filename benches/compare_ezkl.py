#!/usr/bin/env python3
"""zkinfer next to EZKL on the same models and inputs, in the same run (not in CI).

    python3 benches/compare_ezkl.py [--models digits_mlp,digits_cnn,...] [--runs 3] [--out FILE]

It creates its own virtualenv (benches/.venv-ezkl) with ezkl 23.0.5, onnx and onnxruntime from PyPI
and re-runs itself there; zkinfer is the release CLI of this checkout (built if missing). For each
model, on its first committed sample:

1. onnxruntime gives the reference output;
2. EZKL: gen_settings (its defaults: input public, params fixed, output public), calibrate_settings
   (resources), compile, gen_srs, setup, witness, then prove / verify;
3. zkinfer: gen-settings, calibrate-settings (on every committed sample) with the largest
   tolerance whose output error is no larger than EZKL's, on the first sample and over all
   samples (1%, 0.3%, 0.1%, … then `--target accuracy --max-scale 16`), compile, gen-srs, setup,
   witness of the first sample, then prove / verify;
4. prove runs alternate between the two tools (`--runs` each); each is its own process, timed
   inside it (EZKL: around `ezkl.prove`; zkinfer: the CLI's wall time) with peak RSS from
   /usr/bin/time.

The table (markdown) goes to stdout and `--out` (default benches/compare_ezkl.md): logrows, setup s,
prove s (median), verify ms, proof bytes, peak RSS of prove, max abs output error vs onnxruntime
on the proven (first) sample and over every committed sample (EZKL calibrated on the first, as
its `calibrate_settings` takes one sample here; zkinfer on all of them),
verify gas, and the ratios zkinfer/EZKL. Verify gas: each tool's generated verifier deployed on a
local anvil (Osaka) and one `verifyProof` transaction (21,000 base and calldata included); EZKL's
Solidity from `create_evm_verifier` (its own solc download fails offline after the file is
written) compiled with the project's solcjs, optimizer on (runs 1; EZKL's verifier does not
compile without it), zkinfer's through `create-evm-verifier` / `deploy-evm` / `verify-evm`
(optimizer off, as it must be). `--no-gas` skips it.
"""
import argparse
import asyncio
import inspect
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "benches", ".venv-ezkl")
WORK = os.path.join(ROOT, "benches", ".work")
PY = os.path.join(VENV, "bin", "python3")
PACKAGES = ["ezkl==23.0.5", "onnx", "onnxruntime", "numpy"]
ZK = os.path.join(ROOT, "target", "release", "zkinfer")
DEFAULT_MODELS = ["digits_mlp", "digits_cnn", "logreg_sigmoid", "mlp256", "lenet"]


def ensure_venv():
    if os.path.abspath(sys.prefix) == os.path.abspath(VENV):
        return
    if not os.path.exists(PY):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([PY, "-m", "pip", "install", "-q", *PACKAGES])
    os.execv(PY, [PY, *sys.argv])


def sync(r):
    return asyncio.run(r) if inspect.isawaitable(r) else r


def in_loop(f):
    """Call `f` inside a running event loop (some EZKL calls need one to start) and await it."""

    async def run():
        r = f()
        return await r if inspect.isawaitable(r) else r

    return asyncio.run(run())


def timed(cmd, cwd):
    """Run cmd under GNU time; returns (wall seconds, peak RSS MB, stdout)."""
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr[-2000:]}")
    wall, rss = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) / 1024, out.stdout


def mlp256(path):
    """A 256-256-256-10 MLP on 64 inputs (random weights, seeded), as in DESIGN.md's figures."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(256)
    dims = [64, 256, 256, 256, 10]
    nodes, inits, x = [], [], "input"
    for i in range(4):
        w = (rng.normal(0, 1 / np.sqrt(dims[i]), (dims[i], dims[i + 1]))).astype(np.float32)
        b = (rng.normal(0, 0.1, dims[i + 1])).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [f"h{i}"], name=f"fc{i}"))
        x = f"h{i}"
        if i < 3:
            nodes.append(helper.make_node("Relu", [x], [f"r{i}"], name=f"relu{i}"))
            x = f"r{i}"
    g = helper.make_graph(nodes, "mlp256", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 64])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)
    data = {"input_data": [rng.uniform(0, 1, 64).round(4).tolist()]}
    return data


def model_files(name, d):
    """(model.onnx, one-sample input JSON) for a committed model or the generated mlp256."""
    os.makedirs(d, exist_ok=True)
    data_path = os.path.join(d, "input.json")
    if name == "mlp256":
        model = os.path.join(d, "model.onnx")
        data = mlp256(model)
    else:
        import onnx

        model = os.path.join(ROOT, "models", name, "model.onnx")
        full = json.load(open(os.path.join(ROOT, "models", name, "input.json")))
        m = onnx.load(model)
        sizes = []
        for inp in m.graph.input:
            n = 1
            for dim in inp.type.tensor_type.shape.dim:
                n *= dim.dim_value if dim.dim_value > 0 else 1
            sizes.append(n)
        data = {"input_data": [flat[:n] for flat, n in zip(full["input_data"], sizes)]}
    json.dump(data, open(data_path, "w"))
    return model, data_path, data


def all_samples(name, first):
    """Every committed sample of the model (one input JSON each); mlp256: `first` (the proven
    one) and seven seeded ones."""
    if name == "mlp256":
        import numpy as np

        rng = np.random.default_rng(257)
        return [first] + [{"input_data": [rng.uniform(0, 1, 64).round(4).tolist()]} for _ in range(7)]
    full = json.load(open(os.path.join(ROOT, "models", name, "input.json")))
    n = json.load(open(os.path.join(ROOT, "models", name, "expected.json")))["samples"]
    return [{"input_data": [flat[i * len(flat) // n:(i + 1) * len(flat) // n] for flat in full["input_data"]]} for i in range(n)]


def write_samples(name, base, first):
    """One input file per sample, and one with all of them (each input's samples concatenated,
    zkinfer's calibration format); returns (sample paths, all-samples path, sample data)."""
    samples = all_samples(name, first)
    paths = []
    for i, data in enumerate(samples):
        paths.append(os.path.join(base, f"sample{i}.json"))
        json.dump(data, open(paths[-1], "w"))
    every = os.path.join(base, "all_samples.json")
    json.dump({"input_data": [sum((s["input_data"][k] for s in samples), []) for k in range(len(samples[0]["input_data"]))]}, open(every, "w"))
    return paths, every, samples


def ezkl_error_on_all(ed, paths, refs):
    """EZKL's max abs output error over every sample (its witness of each)."""
    import ezkl

    err = 0.0
    for i, (path, ref) in enumerate(zip(paths, refs)):
        w = os.path.join(ed, f"witness{i}.json")
        sync(ezkl.gen_witness(path, os.path.join(ed, "model.compiled"), w))
        err = max(err, max_err(ref, json.load(open(w))["pretty_elements"]["rescaled_outputs"]))
    return err


def zk_error_on_all(zd, paths, refs):
    """zkinfer's max abs output error over every sample, with its compiled model in `zd`."""
    err = 0.0
    for i, (path, ref) in enumerate(zip(paths, refs)):
        zk(["gen-witness", "-D", path, "-M", "model.compiled", "-O", f"witness{i}.json"], zd)
        err = max(err, max_err(ref, json.load(open(os.path.join(zd, f"witness{i}.json")))["rescaled_outputs"]))
    return err


def reference(model, data):
    import numpy as np
    import onnxruntime as ort

    s = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feed = {}
    for i, flat in zip(s.get_inputs(), data["input_data"]):
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        feed[i.name] = np.asarray(flat, dtype=np.float32).reshape(shape)
    return [np.asarray(o, dtype=np.float64).reshape(-1) for o in s.run(None, feed)]


def max_err(ref, got):
    return max(abs(a - float(b)) for r, g in zip(ref, got) for a, b in zip(r, g))


def proof_bytes(path):
    p = json.load(open(path))
    proof = p.get("proof")
    if isinstance(proof, str):
        return len(proof.removeprefix("0x")) // 2
    if isinstance(proof, list):
        return len(proof)
    hp = p.get("hex_proof")
    return len(hp.removeprefix("0x")) // 2 if hp else 0


def explicit_strides(model, d):
    """A copy of the model whose Conv / pooling nodes state `strides` (EZKL refuses the ONNX default
    of 1 when the attribute is absent); the semantics are unchanged."""
    import onnx
    from onnx import helper

    m = onnx.load(model)
    inits = {i.name: i for i in m.graph.initializer}
    changed = False
    for n in m.graph.node:
        if n.op_type in ("Conv", "MaxPool", "AveragePool") and not any(a.name == "strides" for a in n.attribute):
            ks = next((list(a.ints) for a in n.attribute if a.name == "kernel_shape"), None)
            if ks is None and n.op_type == "Conv" and n.input[1] in inits:
                ks = list(inits[n.input[1]].dims[2:])
            n.attribute.append(helper.make_attribute("strides", [1] * len(ks)))
            changed = True
    if not changed:
        return model
    path = os.path.join(d, "model_strides.onnx")
    onnx.save(m, path)
    return path


def ezkl_prepare(model, data_path, d):
    import ezkl

    model = explicit_strides(model, d)

    st, comp, srs, vk, pk, wit = (os.path.join(d, f) for f in ["settings.json", "model.compiled", "kzg.srs", "vk.key", "pk.key", "witness.json"])
    ra = ezkl.PyRunArgs()
    sync(ezkl.gen_settings(model, st, py_run_args=ra))
    sync(ezkl.calibrate_settings(data_path, model, st, "resources"))
    sync(ezkl.compile_circuit(model, comp, st))
    logrows = json.load(open(st))["run_args"]["logrows"]
    sync(ezkl.gen_srs(srs, logrows))
    t = time.perf_counter()
    sync(ezkl.setup(comp, vk, pk, srs))
    setup_s = time.perf_counter() - t
    sync(ezkl.gen_witness(data_path, comp, wit))
    w = json.load(open(wit))
    outs = w["pretty_elements"]["rescaled_outputs"]
    return {"logrows": logrows, "setup": setup_s, "outputs": outs}


EZKL_PROVE = """
import asyncio, inspect, sys, time, ezkl
d = sys.argv[1]
t = time.perf_counter()
r = ezkl.prove(d + '/witness.json', d + '/model.compiled', d + '/pk.key', d + '/proof.json', d + '/kzg.srs')
if inspect.isawaitable(r): asyncio.run(r)
print(time.perf_counter() - t)
"""

EZKL_VERIFY = """
import asyncio, inspect, sys, time, ezkl
d = sys.argv[1]
t = time.perf_counter()
r = ezkl.verify(d + '/proof.json', d + '/settings.json', d + '/vk.key', d + '/kzg.srs')
if inspect.isawaitable(r): r = asyncio.run(r)
assert r, 'EZKL proof does not verify'
print(time.perf_counter() - t)
"""


SOLIDITY = os.path.join(ROOT, "solidity")
BIN = os.path.join(SOLIDITY, "node_modules", ".bin")
# anvil's first development key (public; local chains only).
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
SOLCJS = """
const solc = require(process.argv[1]);
const fs = require('fs');
const src = fs.readFileSync(process.argv[2], 'utf8');
const input = {language: 'Solidity', sources: {'V.sol': {content: src}},
  settings: {optimizer: {enabled: process.argv[4] === 'on', runs: 1}, outputSelection: {'*': {'*': ['evm.bytecode.object']}}}};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
for (const e of out.errors || []) if (e.severity === 'error') { console.error(e.formattedMessage); process.exit(1); }
const c = out.contracts['V.sol'];
const name = Object.keys(c).find(n => c[n].evm.bytecode.object.length > 0);
fs.writeFileSync(process.argv[3], '0x' + c[name].evm.bytecode.object);
"""


class Anvil:
    """A local anvil (127.0.0.1, a free port, Osaka as revm), stopped by its PID."""

    def __enter__(self):
        self.p = subprocess.Popen([os.path.join(BIN, "anvil"), "--host", "127.0.0.1", "--port", "0", "--hardfork", "osaka", "--disable-code-size-limit", "--gas-limit", "100000000"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in self.p.stdout:
            if line.startswith("Listening on "):
                self.url = "http://" + line.split()[-1]
                return self
        raise RuntimeError("anvil did not start")

    def __exit__(self, *exc):
        self.p.terminate()
        self.p.wait()

    def cast(self, *args):
        out = subprocess.run([os.path.join(BIN, "cast"), args[0], "--rpc-url", self.url, *args[1:]], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"cast {args[0]} failed: {out.stderr[-1500:]}")
        return out.stdout


def ezkl_gas(ed, chain):
    """EZKL's verifier for this model (its `create_evm_verifier`, compiled with the project's
    solcjs 0.8.28 with the optimizer on, runs 1: without it solc fails with "stack too deep"),
    deployed on anvil; gas of a `verifyProof` transaction with EZKL's `encode_evm_calldata`, incl.
    the 21,000 base and calldata (as zkinfer's figure)."""
    import ezkl

    sol, cd, code = (os.path.join(ed, f) for f in ["Verifier.sol", "calldata.bin", "Verifier.bin"])
    try:
        # Its solc download (svm) fails offline after the Solidity file is written.
        if os.path.exists(sol):
            os.remove(sol)
        in_loop(lambda: ezkl.create_evm_verifier(os.path.join(ed, "vk.key"), os.path.join(ed, "settings.json"), sol, os.path.join(ed, "abi.json"), os.path.join(ed, "kzg.srs")))
    except RuntimeError:
        if not os.path.exists(sol):
            raise
    sync(ezkl.encode_evm_calldata(os.path.join(ed, "proof.json"), cd))
    subprocess.run(["node", "-e", SOLCJS, os.path.join(SOLIDITY, "node_modules", "solc"), sol, code, "on"], check=True)
    r = json.loads(chain.cast("send", "--json", "--private-key", DEV_KEY, "--create", open(code).read().strip()))
    addr = r["contractAddress"]
    data = "0x" + open(cd, "rb").read().hex()
    if int(chain.cast("call", addr, data).strip(), 16) != 1:
        raise RuntimeError("EZKL's verifier rejects its own proof")
    r = json.loads(chain.cast("send", "--json", "--private-key", DEV_KEY, "--gas-limit", "16000000", addr, data))
    assert int(r["status"], 16) == 1, r
    return int(r["gasUsed"], 16)


def zk_gas(zd, chain):
    """zkinfer's generated verifier and wrapper deployed on anvil; gas of the `verifyProof`
    transaction (`zkinfer verify-evm --rpc-url`)."""
    zk(["create-evm-verifier", "--vk-path", "vk.key", "--srs-path", "kzg.srs", "--sol-code-path", "Verifier.sol"], zd)
    zk(["deploy-evm", "--sol-code-path", "Verifier.sol", "--rpc-url", chain.url, "--private-key", DEV_KEY, "--addr-path", "addr.txt"], zd)
    addr = open(os.path.join(zd, "addr.txt")).read().strip()
    r = json.loads(zk(["verify-evm", "--proof-path", "proof.json", "--rpc-url", chain.url, "--addr-verifier", addr, "--private-key", DEV_KEY, "--json"], zd))
    assert r["valid"], r
    return r["gas_used"]


def zk(args, d):
    out = subprocess.run([ZK, *args], cwd=d, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"zkinfer {' '.join(args)} failed: {out.stderr[-2000:]}")
    return out.stdout


def zk_prepare(model, data_path, every, paths, refs, d, bar, bar_all):
    """Calibrate on every sample with the largest tolerance whose error is at most EZKL's, on the
    proven (first) sample and over all samples; returns its figures (witness.json: sample 0)."""
    for tol in ["0.01", "0.003", "0.001", "0.0003", "0.0001", None]:
        zk(["gen-settings", "-M", model, "-O", "settings.json"], d)
        calib = ["--tolerance", tol] if tol else ["--target", "accuracy", "--max-scale", "16"]
        zk(["calibrate-settings", "-M", model, "-D", every, "--settings-path", "settings.json", *calib], d)
        zk(["compile-circuit", "-M", model, "-S", "settings.json", "--compiled-circuit", "model.compiled"], d)
        zk(["gen-witness", "-D", data_path, "-M", "model.compiled", "-O", "witness.json"], d)
        outs = json.load(open(os.path.join(d, "witness.json")))["rescaled_outputs"]
        err, err_all = max_err(refs[0], outs), zk_error_on_all(d, paths, refs)
        if (err <= bar and err_all <= bar_all) or tol is None:
            break
    ra = json.load(open(os.path.join(d, "model.compiled")))["settings"]["run_args"]
    zk(["gen-srs", "--logrows", str(ra["logrows"]), "--srs-path", "kzg.srs"], d)
    setup_s, _, _ = timed([ZK, "setup", "-M", "model.compiled", "--srs-path", "kzg.srs"], d)
    return {"logrows": ra["logrows"], "setup": setup_s, "outputs": outs, "err_all": err_all, "tolerance": tol or "accuracy", "scale": ra["input_scale"], "range_bits": ra.get("range_bits", 0), "table_bits": ra.get("table_bits", 0), "lanes": ra["num_inner_cols"], "dot_groups": ra.get("dot_groups", 0)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(ROOT, "benches", "compare_ezkl.md"))
    ap.add_argument("--no-gas", action="store_true", help="skip the EVM verify gas (needs `npm ci --prefix solidity`: anvil, cast, solcjs)")
    a = ap.parse_args()
    ensure_venv()
    if not os.path.exists(ZK):
        subprocess.check_call(["cargo", "build", "--release", "-q", "--manifest-path", os.path.join(ROOT, "Cargo.toml")])
    rows = []
    for name in a.models.split(","):
        base = os.path.join(WORK, name)
        ed, zd = os.path.join(base, "ezkl"), os.path.join(base, "zkinfer")
        os.makedirs(ed, exist_ok=True)
        os.makedirs(zd, exist_ok=True)
        model, data_path, data = model_files(name, base)
        ref = reference(model, data)
        paths, every, samples = write_samples(name, base, data)
        refs = [reference(model, s) for s in samples]
        e = ezkl_prepare(model, data_path, ed)
        e["err"] = max_err(ref, e["outputs"])
        e["err_all"] = ezkl_error_on_all(ed, paths, refs)
        z = zk_prepare(model, data_path, every, paths, refs, zd, e["err"], e["err_all"])
        z["err"] = max_err(ref, z["outputs"])
        ep, zp, er, zr = [], [], [], []
        for _ in range(a.runs):
            wall, rss, out = timed([sys.executable, "-c", EZKL_PROVE, ed], ed)
            ep.append(float(out.strip().splitlines()[-1]))
            er.append(rss)
            wall, rss, _ = timed([ZK, "prove", "-M", "model.compiled", "--witness", "witness.json", "--srs-path", "kzg.srs", "--proof-path", "proof.json"], zd)
            zp.append(wall)
            zr.append(rss)
        _, _, out = timed([sys.executable, "-c", EZKL_VERIFY, ed], ed)
        e_verify = float(out.strip().splitlines()[-1]) * 1000
        t = time.perf_counter()
        zk(["verify", "--proof-path", "proof.json", "--settings-path", "settings.json", "--srs-path", "kzg.srs"], zd)
        z_verify = (time.perf_counter() - t) * 1000
        e_gas = z_gas = None
        if not a.no_gas:
            with Anvil() as chain:
                e_gas, z_gas = ezkl_gas(ed, chain), zk_gas(zd, chain)
        row = {
            "model": name,
            "ezkl": {"logrows": e["logrows"], "setup": e["setup"], "prove": statistics.median(ep), "verify_ms": e_verify, "bytes": proof_bytes(os.path.join(ed, "proof.json")), "rss": max(er), "err": e["err"], "err_all": e["err_all"], "samples": len(paths), "gas": e_gas},
            "zkinfer": {"logrows": z["logrows"], "setup": z["setup"], "prove": statistics.median(zp), "verify_ms": z_verify, "bytes": proof_bytes(os.path.join(zd, "proof.json")), "rss": max(zr), "err": z["err"], "err_all": z["err_all"], "samples": len(paths), "gas": z_gas,
                        "calibration": f"scale {z['scale']}, tolerance {z['tolerance']}, lanes {z['lanes']}, range_bits {z['range_bits']}, table_bits {z['table_bits']}, dot_groups {z['dot_groups']}"},
        }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    lines = [
        f"zkinfer vs EZKL 23.0.5, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {a.runs} alternating prove runs each (median); `python3 benches/compare_ezkl.py`",
        "",
        "| model | tool | logrows | setup s | prove s | verify ms | proof bytes | peak RSS MB | verify gas | max abs err | err, all samples | zkinfer calibration |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for tool in ["ezkl", "zkinfer"]:
            x = r[tool]
            gas = f"{x['gas']:,}" if x.get("gas") else "–"
            lines.append(f"| {r['model']} | {tool} | {x['logrows']} | {x['setup']:.2f} | {x['prove']:.2f} | {x['verify_ms']:.0f} | {x['bytes']} | {x['rss']:.0f} | {gas} | {x['err']:.2e} | {x['err_all']:.2e} ({x['samples']}) | {x.get('calibration', '')} |")
        e, z = r["ezkl"], r["zkinfer"]
        gas = f"{z['gas'] / e['gas']:.2f}×" if e.get("gas") and z.get("gas") else "–"
        lines.append(f"| {r['model']} | **zkinfer/EZKL** | | {z['setup'] / e['setup']:.2f}× | **{z['prove'] / e['prove']:.2f}×** | {z['verify_ms'] / e['verify_ms']:.2f}× | {z['bytes'] / max(e['bytes'], 1):.2f}× | **{z['rss'] / e['rss']:.2f}×** | {gas} | {'≤' if z['err'] <= e['err'] else '>'} | {'≤' if z['err_all'] <= e['err_all'] else '>'} | |")
    table = "\n".join(lines)
    print(table)
    open(a.out, "w").write(table + "\n")


if __name__ == "__main__":
    main()
