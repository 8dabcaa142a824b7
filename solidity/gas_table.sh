#!/usr/bin/env bash
# Gas of every user-facing market call, each in its own transaction (forge --isolate: intrinsic
# and calldata gas included), from the gas tests: GasTable (the inference flow with the real
# digits-MLP verifier and proof), PredictionMarket's testGasFigures (mock verifier) and
# testRealProofTrade (the real digits-softmax verifier). Writes GAS.md (quoted in the README). Run from anywhere: solidity/gas_table.sh
set -euo pipefail
cd "$(dirname "$0")"
./node_modules/.bin/forge test --match-test "testInferenceFlow|testGasFigures|testRealProofTrade" --gas-report --isolate 2>&1 | python3 -c '
import re, sys
keep = {
    "ModelRegistry": ["register", "stake", "requestWithdrawal", "withdraw", "retire"],
    "InferenceMarket": ["request", "fulfil", "reclaim"],
    "PredictionMarket": ["open", "trade", "resolve", "settle", "claim", "refund", "withdraw"],
    "ZkinferVerifier": ["verifyProof"],
}
contract, rows = None, []
for line in sys.stdin:
    m = re.match(r"\|\s*src/(\w+)\.sol:(\w+) Contract", line)
    if m:
        contract = m.group(2)
        label = f"{m.group(2)} ({m.group(1)})" if m.group(2) == "ZkinferVerifier" else m.group(2)
        continue
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if contract in keep and len(cells) == 6 and cells[0] in keep[contract]:
        rows.append((label, cells[0], cells[1], cells[4], cells[5]))
out = ["| contract | call | gas (min) | gas (max) | calls measured |", "|---|---|---|---|---|"]
out += [f"| {c} | `{f}` | {lo} | {hi} | {n} |" for c, f, lo, hi, n in rows]
open("GAS.md", "w").write("Gas per call, each its own transaction (`solidity/gas_table.sh`: `forge test --match-test <the gas tests> --gas-report --isolate`, solc 0.8.28, optimizer off):\n\n" + "\n".join(out) + "\n")
print("\n".join(out))
'
