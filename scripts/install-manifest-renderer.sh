#!/usr/bin/env bash
# Builds scripts/render-manifests (kustomize + a strict check of every object against the Kubernetes API
# types, both Go libraries from the Go module proxy) into .tools/bin/render-manifests, for
# test/deploy-manifests.spec.ts. The first build takes a few minutes (the k8s.io/api types); the binary is
# kept and rebuilt only when the program's source or its go.mod/go.sum change (their hash is kept next to it).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$ROOT/scripts/render-manifests"
OUT="$ROOT/.tools/bin/render-manifests"

HASH="$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC"/*.go | sha256sum | cut -d' ' -f1)"
if [ -x "$OUT" ] && [ "$(cat "$OUT.sha256" 2>/dev/null)" = "$HASH" ]; then
  echo "render-manifests already in .tools/bin"; exit 0
fi
command -v go >/dev/null || { echo "install-manifest-renderer: Go is needed (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
(cd "$SRC" && go build -trimpath -o "$OUT.tmp" .)
mv "$OUT.tmp" "$OUT"
echo "$HASH" > "$OUT.sha256"
echo "render-manifests built into .tools/bin"
