#!/usr/bin/env bash
# kustomize v5.8.1, built with Go from the wrapper module in kustomize/ into $INFRA_DIR/bin, for the
# deploy tests (test/deploy), which render k8s/overlays with it. No process: `up` only builds, and
# only when the module changed. Prints nothing on stdout.
#   kustomize.sh up
set -euo pipefail
SVC=kustomize
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="$INFRA_DIR/bin/kustomize" SRC="$INFRA_SRC/kustomize"

case "${1:-}" in
  up)
    lock_dir "$INFRA_DIR/kustomize"
    go_build "$BIN" "$SRC" "kustomize v5.8.1" sigs.k8s.io/kustomize/kustomize/v5
    ;;
  *) echo "usage: $0 up" >&2; exit 2 ;;
esac
