#!/usr/bin/env bash
# Test input: the real photographs shipped in Debian's darknet package (dog.jpg, eagle.jpg, ...), downloaded with
# apt and unpacked into DIR (default data/cache/debian-photos); never committed. Prints the folder holding them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$ROOT/data/cache/debian-photos}"
PHOTOS="$DIR/usr/share/darknet/data"
if ! ls "$PHOTOS"/*.jpg >/dev/null 2>&1; then
  mkdir -p "$DIR"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download darknet >/dev/null 2>&1) || { echo "apt-get download darknet failed (needs Debian's package sources)" >&2; exit 1; }
  dpkg-deb -x "$work"/darknet_*.deb "$work/x"
  mkdir -p "$PHOTOS"
  cp "$work"/x/usr/share/darknet/data/*.jpg "$PHOTOS/"
fi
echo "$PHOTOS"
