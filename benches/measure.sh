#!/usr/bin/env bash
# Measure the CLI pipeline on one bundled model: logrows, setup s, prove s, verify ms, proof
# bytes and peak RSS (GNU time), and the max abs output error against expected.json.
# Usage: benches/measure.sh <model-dir-name | directory> [resources|accuracy]
# (a directory holding model.onnx, input.json and expected.json, e.g. from benches/mlp1m.py).
# Builds the release binary first. Not run in CI.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NAME="${1:?model name, e.g. digits_mlp}"
TARGET="${2:-resources}"
if [ -d "$NAME" ]; then M="$(cd "$NAME" && pwd)"; NAME="$(basename "$M")"; else M="$ROOT/models/$NAME"; fi
cargo build --release --manifest-path "$ROOT/Cargo.toml" -q
Z="$ROOT/target/release/zkinfer"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
cd "$W"
python3 - "$M" <<'PY'
import json, sys
m = sys.argv[1]
d = json.load(open(f"{m}/input.json"))
e = json.load(open(f"{m}/expected.json"))
json.dump({"input_data": [l[: len(l) // e["samples"]] for l in d["input_data"]]}, open("one.json", "w"))
PY
t() { /usr/bin/time -f "%e %M" -o "$1.time" "${@:2}" > "$1.out" 2>&1; }
"$Z" gen-settings -M "$M/model.onnx" -O settings.json > /dev/null
"$Z" calibrate-settings -M "$M/model.onnx" -D "$M/input.json" --settings-path settings.json --target "$TARGET" > /dev/null
"$Z" compile-circuit -M "$M/model.onnx" -S settings.json --compiled-circuit model.compiled > /dev/null
"$Z" gen-witness -D one.json -M model.compiled -O witness.json > /dev/null
K=$(python3 -c "import json;print(json.load(open('model.compiled'))['settings']['run_args']['logrows'])")
"$Z" gen-srs --logrows "$K" --srs-path kzg.srs > /dev/null 2>&1
t setup "$Z" setup -M model.compiled --srs-path kzg.srs --vk-path vk.key --pk-path pk.key
t prove "$Z" prove -M model.compiled --witness witness.json --pk-path pk.key --proof-path proof.json --srs-path kzg.srs
t verify "$Z" verify --proof-path proof.json --vk-path vk.key --srs-path kzg.srs
BYTES=$(python3 -c "import json;print(len(json.load(open('proof.json'))['proof'])//2-1)")
read SS SR < setup.time; read PS PR < prove.time; read VS VR < verify.time
# Max abs error of the proven outputs against expected.json's first sample, and the layout.
read ERR LAYOUT < <(python3 - "$M" <<'PY'
import json, sys
e = json.load(open(f"{sys.argv[1]}/expected.json"))
w = json.load(open("witness.json"))
err = 0.0
for o, got in enumerate(w["rescaled_outputs"]):
    want = e["outputs"][o][: len(e["outputs"][o]) // e["samples"]]
    err = max([err] + [abs(a - b) for a, b in zip(got, want)])
ra = json.load(open("model.compiled"))["settings"]["run_args"]
print(f"{err:.3g}", f"scale={ra['input_scale']},lanes={ra['num_inner_cols']},range_bits={ra.get('range_bits', 0)},table_bits={ra.get('table_bits', 0)},dot_groups={ra.get('dot_groups', 0)}")
PY
)
echo "| model | logrows | layout | setup s | prove s | verify ms | proof bytes | peak RSS setup / prove | max abs error |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| $NAME ($TARGET) | $K | $LAYOUT | $SS | $PS | $(python3 -c "print(round($VS*1000))") | $BYTES | $((SR/1024)) MB / $((PR/1024)) MB | $ERR |"
