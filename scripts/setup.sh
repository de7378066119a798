#!/usr/bin/env bash
# Installs what running the notebooks needs and registers the tslab kernel; with --test also the test oracles
# (Debian's python3-torch and python3-torchvision: the full-size torchvision parity test generates its
# checkpoints and reference outputs with them at test time; python3-scipy writes the ImageNet devkit's meta.mat
# for the devkit test and is what torchvision reads it with; python3-onnx checks the models decomp export writes).
# With --lab (npm run lab) or --test also what the JupyterLab 3.6 front end in lab/ runs on: Debian's
# python3-jupyter-server and python3-jupyterlab-server; --test also builds that front end (its own npm packages,
# lab/package-lock.json) for the JupyterLab live test. npm run lab builds it on first use.
# Idempotent: each step checks first, so a second run with everything present takes about a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Debian's python carries Jupyter; the python3 first on PATH may be another one without it.
PY=/usr/bin/python3
TSLAB="$ROOT/node_modules/.bin/tslab"
DEBIAN_PACKAGES=(python3 jupyter-nbconvert python3-nbconvert python3-nbclient python3-ipykernel python3-jupyter-client jupyter-notebook chromium fonts-liberation)
LAB_SERVER=(python3-jupyter-server python3-jupyterlab-server)
if [ "${1:-}" = "--test" ]; then DEBIAN_PACKAGES+=(python3-torch python3-torchvision python3-scipy python3-onnx "${LAB_SERVER[@]}"); fi
# A user's own JupyterLab serves `npm run lab` (scripts/lab.ts), unless DECOMP_LAB=build asks for ours.
if [ "${1:-}" = "--lab" ] && { [ "${DECOMP_LAB:-}" = "build" ] || ! command -v jupyter-lab >/dev/null; }; then DEBIAN_PACKAGES+=("${LAB_SERVER[@]}"); fi

log() { echo "[setup] $*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "[setup] need root for: $* (run as root or install sudo)" >&2; exit 1
  fi
}

if [ ! -x "$TSLAB" ]; then
  log "node_modules lacks tslab: running npm ci"
  npm ci
fi

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  # Recommends would pull pandoc and TeX, which HTML export does not use.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The registered kernel must start this checkout's tslab; re-register when it points elsewhere.
registered="$("$PY" - <<'PYEOF'
import json, os
from jupyter_client.kernelspec import KernelSpecManager
try:
    d = KernelSpecManager().get_kernel_spec("tslab").resource_dir
    print(json.load(open(os.path.join(d, "kernel.json")))["argv"][0])
except Exception:
    print("")
PYEOF
)"
if [ "$registered" != "$TSLAB" ]; then
  log "registering the tslab kernel (binary $TSLAB)"
  "$TSLAB" install --python="$PY" --binary="$TSLAB"
fi
if [ "${1:-}" = "--test" ]; then
  node -r ./scripts/register-ts.js scripts/lab-build.ts
fi
log "ready: tslab kernel -> $TSLAB"
