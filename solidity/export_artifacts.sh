#!/usr/bin/env bash
# Export the market contracts' ABI and bytecode for the Rust bindings (market/contracts/*.json,
# read by alloy's sol! macro). market/tests/artifacts_in_sync.rs fails when they differ from a
# fresh `forge build`; run this after changing a contract. Run from anywhere.
set -euo pipefail
SOL="$(cd "$(dirname "$0")" && pwd)"
OUT="${1:-$SOL/../market/contracts}"
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
cd "$SOL"
./node_modules/.bin/forge build --skip test --out "$BUILD" --cache-path "$BUILD/cache" > /dev/null
mkdir -p "$OUT"
python3 - "$BUILD" "$OUT" <<'PY'
import json, sys
build, out = sys.argv[1:]
for name in ["TestToken", "ModelRegistry", "InferenceMarket", "PredictionMarket"]:
    a = json.load(open(f"{build}/{name}.sol/{name}.json"))
    json.dump({"abi": a["abi"], "bytecode": {"object": a["bytecode"]["object"]}, "deployedBytecode": {"object": a["deployedBytecode"]["object"]}},
              open(f"{out}/{name}.json", "w"), indent=1, sort_keys=True)
    print(f"{out}/{name}.json")
PY
