#!/usr/bin/env bash
# A `solc` for forge, backed by solcjs from node_modules (offline): answers --version in solc's
# format and compiles --standard-json from stdin, writing the JSON output to stdout.
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
if [ "${1:-}" = "--version" ]; then
  echo "solc, the solidity compiler commandline interface"
  echo "Version: 0.8.28+commit.7893614a.Linux.g++"
  exit 0
fi
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT
node -e "
const solc = require(process.argv[1]);
const fs = require('fs');
const path = require('path');
function findImports(p) {
  for (const base of [process.cwd(), process.argv[3]]) {
    const f = path.resolve(base, p);
    if (fs.existsSync(f)) return { contents: fs.readFileSync(f, 'utf8') };
  }
  return { error: 'not found: ' + p };
}
fs.writeFileSync(process.argv[2], solc.compile(fs.readFileSync(0, 'utf8'), { import: findImports }));
" "$DIR/node_modules/solc" "$OUT" "$DIR"
cat "$OUT"
