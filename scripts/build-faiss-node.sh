#!/usr/bin/env bash
# Builds faiss-node's N-API binding against Debian's libfaiss-dev into vendor/faiss-node/faiss-node.node,
# for the optional FAISS backend (index.backend: faiss; src/index/faiss.ts). faiss-node's own npm
# install downloads a prebuilt binary from GitHub or clones faiss, which fails offline; its one C++
# source file builds in seconds against the system library instead. Needs: libfaiss-dev, g++, make,
# python3 (node-gyp), Node's headers (Debian's nodejs-dev or npm's nodedir), and the npm registry
# (npm pack / npm install of faiss-node 0.5.1 and its header-only dependency node-addon-api).
# Without libfaiss-dev it says so and exits 0, unless --require is given (the test set-up uses it,
# so a FAISS test can never be skipped silently).
set -euo pipefail
VERSION=0.5.1
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/vendor/faiss-node"
require=false
[ "${1:-}" = "--require" ] && require=true

if [ ! -f /usr/include/faiss/IndexFlat.h ]; then
  echo "faiss-node: libfaiss-dev is not installed; the optional FAISS backend is not built"
  $require && exit 1
  exit 0
fi
if [ -f "$out/faiss-node.node" ] && [ "$out/faiss-node.node" -nt /usr/include/faiss/IndexFlat.h ] && [ -f "$out/VERSION" ] && [ "$(cat "$out/VERSION")" = "$VERSION" ]; then
  echo "faiss-node: $out/faiss-node.node is up to date"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack "faiss-node@$VERSION" --silent >/dev/null
tar xzf "faiss-node-$VERSION.tgz"
cd package
# Its dependencies without its install script (which is the part that needs GitHub).
npm install --ignore-scripts --no-audit --no-fund --no-package-lock --silent >/dev/null

# faiss 1.7.3 (Debian 12/13) names the index id type faiss::Index::idx_t; faiss-node's source uses
# faiss::idx_t, which 1.7.4 added. The alias is harmless where it already exists.
cat > idx_alias.h <<'EOF'
#include <faiss/Index.h>
namespace faiss { using idx_t = Index::idx_t; }
EOF
cat > binding.gyp <<'EOF'
{
  "targets": [{
    "target_name": "faiss-node",
    "sources": ["src/faiss.cc"],
    "include_dirs": ["<(module_root_dir)/node_modules/node-addon-api"],
    "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-include", "<(module_root_dir)/idx_alias.h"],
    "cflags_cc!": ["-fno-exceptions"],
    "libraries": ["-lfaiss", "-lgomp"],
    "defines": ["NAPI_VERSION=6", "NAPI_CPP_EXCEPTIONS"]
  }]
}
EOF

gyp="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$(command -v node-gyp || true)"
[ -n "$gyp" ] || { echo "faiss-node: node-gyp not found (it comes with npm)"; exit 1; }
nodedir_args=()
# Offline, node-gyp must not download headers: use the installed ones.
for dir in "$(npm config get nodedir 2>/dev/null || true)" /usr /usr/local; do
  if [ -n "$dir" ] && [ "$dir" != "undefined" ] && [ -f "$dir/include/node/node_api.h" ]; then
    nodedir_args=(--nodedir="$dir")
    break
  fi
done
node "$gyp" rebuild "${nodedir_args[@]}" >build.log 2>&1 || { tail -30 build.log; echo "faiss-node: build failed"; exit 1; }

mkdir -p "$out"
cp build/Release/faiss-node.node "$out/faiss-node.node.tmp"
mv "$out/faiss-node.node.tmp" "$out/faiss-node.node"
echo "$VERSION" >"$out/VERSION"
# A smoke test in a separate process: a broken binding must fail here, not inside the node.
node -e "
const f = require(process.argv[1]);
const ix = new f.IndexFlatIP(2);
ix.add([1, 0, 0, 1]);
const r = ix.search([1, 0], 1);
if (r.labels[0] !== 0) { console.error('faiss-node smoke test failed'); process.exit(1); }
" "$out/faiss-node.node"
echo "faiss-node: built $out/faiss-node.node against $(dpkg-query -W -f='libfaiss-dev ${Version}' libfaiss-dev 2>/dev/null || echo 'libfaiss')"
