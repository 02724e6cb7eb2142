#!/usr/bin/env bash
# Build deterministic release tarballs of echo-server into ../artifacts/.
#
#   ./pack.sh                 # the version in package.json
#   ./pack.sh 1.0.0 1.1.0     # these versions (package.json's version is rewritten in the copy)
#
# Same sources + same version => byte-identical tarball => same sha256, so the digests
# pinned in jobs/**.yaml stay valid when anyone rebuilds. Entries are relative:
#   bin/server.js  package.json
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_dir="$here/../artifacts"
mkdir -p "$out_dir"

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  versions=("$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$here/package.json")")
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

for version in "${versions[@]}"; do
  if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "pack.sh: bad version '$version' (want X.Y.Z)" >&2
    exit 2
  fi
  rm -rf "${stage:?}"/*
  mkdir -p "$stage/bin"
  cp "$here/bin/server.js" "$stage/bin/server.js"
  sed "s/^  \"version\": \".*\",$/  \"version\": \"$version\",/" "$here/package.json" > "$stage/package.json"
  grep -q "\"version\": \"$version\"" "$stage/package.json"
  chmod 755 "$stage/bin" "$stage/bin/server.js"
  chmod 644 "$stage/package.json"

  tarball="$out_dir/echo-server-$version.tar.gz"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
      -cf - -C "$stage" bin package.json | gzip -n -9 > "$tarball"
  (cd "$out_dir" && sha256sum "$(basename "$tarball")")
done
