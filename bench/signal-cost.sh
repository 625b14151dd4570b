#!/usr/bin/env bash
# What analyze's signals cost beside the forward passes they need (issue 13), as README's Performance table reports
# it: the Qwen2.5-0.5B shape written as a Q8_0 GGUF file (`mspgt synth`, 151,936-token vocabulary), analyzed over the
# first 4 documents of the TinyStories sample and over 64 documents (a numbered header, then the sample's five stories
# starting from a different one in each, as the GPU check builds its corpus; any other count is built the same way),
# each cut to 256 tokens (or TOKENS; above 256, 4 documents are rotated ones too, since the sample's first stories are
# shorter: the rotated documents are long enough for 1,024 tokens and more). Every run prints analyze's own stage line (from
# its timings.json): forward passes, per-document and corpus-level signals, their ratio, and the peak RSS.
# Usage: bench/signal-cost.sh [WORKDIR=a new temporary folder] [RUNS=3] [DOCUMENTS="4 64", e.g. "4 16 32 64"] [TOKENS=256]
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-$(mktemp -d)}; RUNS=${2:-3}; DOCUMENTS=${3:-"4 64"}; TOKENS=${4:-256}
case $TOKENS in ''|*[!0-9]*) echo "TOKENS: a token count, not $TOKENS" >&2; exit 2 ;; esac
[ -x /usr/bin/time ] || { echo "GNU time is not installed (apt-get install -y time)" >&2; exit 2; }
mkdir -p "$WORK"
dotnet build src/Mspgt.Cli -c Release -v q -nologo >/dev/null
MSPGT="dotnet src/Mspgt.Cli/bin/Release/net10.0/mspgt.dll"
M="$WORK/qwen-q8_0.gguf"
[ -e "$M" ] || $MSPGT synth --preset qwen2.5-0.5b --out "$M" --dtype q8_0 >/dev/null
sample=../shared/corpora/tinystories-sample/stories.jsonl
head -4 "$sample" > "$WORK/d4.jsonl"
echo "$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%FT%H:%MZ)"
for d in $DOCUMENTS; do
  case $d in
    4) if [ "$TOKENS" -le 256 ]; then D="$WORK/d4.jsonl"; else D="$WORK/d4.txt"; scripts/rotated-corpus.sh "$sample" "$D" 4; fi ;;
    ''|*[!0-9]*) echo "DOCUMENTS: document counts (4, or any other for a rotated corpus), not $d" >&2; exit 2 ;;
    *) D="$WORK/d$d.txt"; scripts/rotated-corpus.sh "$sample" "$D" "$d" ;;
  esac
  for r in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/out" "$WORK/rss"
    /usr/bin/time -f %M -o "$WORK/rss" $MSPGT analyze -m "$M" --corpus "$D" --max-tokens "$TOKENS" --out "$WORK/out" -q >/dev/null
    awk -v d="$d" -v r="$r" -v t="$TOKENS" -v rss="$(cat "$WORK/rss")" '
      /"forward_seconds"/ { f = $2 + 0 } /"document_signals_seconds"/ { p = $2 + 0 } /"corpus_signals_seconds"/ { c = $2 + 0 }
      END { printf "%d documents of %d tokens, run %d: forward passes %.1f s, signals %.1f s per document + %.1f s corpus-level = %.2fx; peak RSS %d MiB\n", d, t, r, f, p, c, (p + c) / f, rss / 1024 }' "$WORK/out/timings.json"
  done
done
rm -rf "$WORK/out" "$WORK/rss"
