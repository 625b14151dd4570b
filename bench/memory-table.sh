#!/usr/bin/env bash
# Peak RSS of run, analyze and intervene against the weight file, for the Qwen2.5-0.5B shape written as a BF16 and an
# F32 Hugging Face folder and as Q8_0 and Q4_K GGUF files (`mspgt synth`), as README's memory table reports it.
# Needs GNU time (/usr/bin/time). Usage: bench/memory-table.sh [WORKDIR=a new temporary folder] [FORMATS="bf16 f32 q8_0 q4_k"]
# Prints one line per file and command: peak RSS in MiB and its ratio to the weight bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-$(mktemp -d)}; FORMATS=${2:-"bf16 f32 q8_0 q4_k"}
mkdir -p "$WORK"
[ -x /usr/bin/time ] || { echo "GNU time is not installed (apt-get install -y time)" >&2; exit 2; }
dotnet build src/Mspgt.Cli -c Release -v q -nologo >/dev/null
MSPGT="dotnet src/Mspgt.Cli/bin/Release/net10.0/mspgt.dll"
D="$WORK/docs.jsonl"
head -4 ../shared/corpora/tinystories-sample/stories.jsonl > "$D"
PROMPT="Once upon a time there was a little girl who loved to play in the park with her dog every day after school."
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }   # KiB
echo "2 cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%FT%H:%MZ)"
for f in $FORMATS; do
  case $f in
    bf16|f32) M="$WORK/qwen-$f"; [ -e "$M" ] || $MSPGT synth --preset qwen2.5-0.5b --out "$M" --dtype "$f" >/dev/null
              bytes=$(cat "$M"/*.safetensors | wc -c) ;;
    *)        M="$WORK/qwen-$f.gguf"; [ -e "$M" ] || $MSPGT synth --preset qwen2.5-0.5b --out "$M" --dtype "$f" >/dev/null
              bytes=$(stat -L -c %s "$M") ;;
  esac
  rm -rf "$WORK/out"
  r=$(peak $MSPGT run -m "$M" -p "$PROMPT")
  a=$(peak $MSPGT analyze -m "$M" --corpus "$D" --max-tokens 256 --out "$WORK/out" -q)
  i=$(peak $MSPGT intervene -m "$M" --corpus "$D" --documents 4 --max-tokens 64 --segments local=0-7,intermediate=8-15,global=16-23 \
        --interventions noise,zero --controls 2 --continuations 0 --out "$WORK/out-i" -q)
  rm -rf "$WORK/out" "$WORK/out-i"
  awk -v f="$f" -v b="$bytes" -v r="$r" -v a="$a" -v i="$i" 'BEGIN {
    w = b / 1048576; printf "%-5s %8.1f MiB: run %6.0f MiB (%.2fx)  analyze %6.0f MiB (%.2fx)  intervene %6.0f MiB (%.2fx)\n",
      f, w, r / 1024, r / 1024 / w, a / 1024, a / 1024 / w, i / 1024, i / 1024 / w }'
done
