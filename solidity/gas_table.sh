#!/usr/bin/env bash
# Gas of every user-facing market call, each in its own transaction (forge --isolate: intrinsic
# and calldata gas included), from the GasTable tests (real digits-MLP verifier and proof for
# fulfil). Writes GAS.md (quoted in the README). Run from anywhere: solidity/gas_table.sh
set -euo pipefail
cd "$(dirname "$0")"
./node_modules/.bin/forge test --match-contract GasTable --gas-report --isolate 2>&1 | python3 -c '
import re, sys
keep = {
    "ModelRegistry": ["register", "stake", "requestWithdrawal", "withdraw", "retire"],
    "InferenceMarket": ["request", "fulfil", "reclaim"],
    "PredictionMarket": ["open", "trade", "resolve", "settle", "claim", "refund", "withdraw"],
    "ZkinferVerifier": ["verifyProof"],
}
contract, rows = None, []
for line in sys.stdin:
    m = re.match(r"\|\s*src/\S+:(\w+) Contract", line)
    if m:
        contract = m.group(1)
        continue
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if contract in keep and len(cells) == 6 and cells[0] in keep[contract]:
        rows.append((contract, cells[0], cells[1], cells[4], cells[5]))
out = ["| contract | call | gas (min) | gas (max) | calls measured |", "|---|---|---|---|---|"]
out += [f"| {c} | `{f}` | {lo} | {hi} | {n} |" for c, f, lo, hi, n in rows]
open("GAS.md", "w").write("Gas per call, each its own transaction (`solidity/gas_table.sh`: `forge test --match-contract GasTable --gas-report --isolate`, solc 0.8.28, optimizer off):\n\n" + "\n".join(out) + "\n")
print("\n".join(out))
'
