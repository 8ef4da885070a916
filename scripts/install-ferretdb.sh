#!/usr/bin/env bash
# Builds FerretDB v1 (MongoDB wire protocol over SQLite/PostgreSQL) into .tools/bin/ferretdb.
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a binary that panics at start
# ("Invalid build/version/version.txt"): the module ships without its generated version file. So this
# script takes the same module from the Go module proxy, adds version.txt, and builds ./cmd/ferretdb.
set -euo pipefail
VERSION="${FERRETDB_VERSION:-v1.24.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/.tools/bin/ferretdb"

# (read the whole --version output first: with pipefail, `grep -q` or `head` closing the pipe early fails it)
installed_version() { local v; v="$("$OUT" --version 2>/dev/null)" || return 0; printf '%s\n' "$v" | sed -n 's/^version: //p'; }
if [ -x "$OUT" ] && [ "$(installed_version)" = "$VERSION" ]; then
  echo "ferretdb $VERSION already in .tools/bin"; exit 0
fi
command -v go >/dev/null || { echo "install-ferretdb: Go is needed (https://go.dev/dl/)" >&2; exit 1; }

DIR="$(go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
[ -d "$DIR" ] || { echo "install-ferretdb: could not download github.com/FerretDB/FerretDB@$VERSION" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp -r "$DIR/." "$WORK/src"
chmod -R u+w "$WORK/src"
echo "$VERSION" > "$WORK/src/build/version/version.txt"
mkdir -p "$(dirname "$OUT")"
(cd "$WORK/src" && go build -o "$OUT" ./cmd/ferretdb)
[ "$(installed_version)" = "$VERSION" ] || { echo "install-ferretdb: the built binary does not report $VERSION" >&2; exit 1; }
echo "ferretdb $VERSION built into .tools/bin"
