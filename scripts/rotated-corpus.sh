#!/usr/bin/env bash
# Writes a corpus of N plain-text documents, blank-line separated, from a JSONL sample of a few stories: document i is
# a numbered header, then every story of the sample starting from story i mod (stories) — long enough to fill any
# --max-tokens the checks use, and the same bytes on every machine (no random numbers). The GPU check's 8B analyze and
# bench/signal-cost.sh read it. JSON escapes are undone by sed: \n and \" only, which is all the TinyStories sample has.
# Usage: scripts/rotated-corpus.sh SAMPLE.jsonl OUT.txt [N=64]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 SAMPLE.jsonl OUT.txt [N=64]" >&2; exit 2; }
sample=$1 out=$2 n=${3:-64}
[ -f "$sample" ] || { echo "rotated-corpus: $sample: no such file" >&2; exit 2; }
stories=$(mktemp)
trap 'rm -f "$stories" "$out.tmp"' EXIT
sed -e 's/^{"text": *"//' -e 's/"}[[:space:]]*$//' -e 's/\\n/ /g' -e 's/\\"/"/g' "$sample" > "$stories"
count=$(wc -l < "$stories")
[ "$count" -gt 0 ] || { echo "rotated-corpus: $sample has no stories" >&2; exit 2; }
: > "$out.tmp"
for i in $(seq 0 $((n - 1))); do
  { printf 'Document %d. ' "$i"; awk -v s="$i" -v n="$count" '{ a[NR - 1] = $0 } END { for (j = 0; j < n; j++) printf "%s ", a[(s + j) % n]; print "" }' "$stories"; echo; } >> "$out.tmp"
done
mv "$out.tmp" "$out"
