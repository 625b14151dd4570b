#!/usr/bin/env bash
# mspgt against PyTorch eager fp32 on llama2.c's 110M shape, one prefill, interleaved (mspgt, torch, mspgt, ...)
# so that both see the same machine load. Needs Debian's python3-torch (apt-get install -y python3-torch); installs
# nothing. Usage: bench/pytorch-compare.sh [TOKENS=256] [ROUNDS=3] [THREADS="1 2"]
# Prints, per thread count, the median tokens/s of each and the ratio mspgt / torch.
set -euo pipefail
cd "$(dirname "$0")/.."
TOKENS=${1:-256}; ROUNDS=${2:-3}; THREADS=${3:-"1 2"}
PY=/usr/bin/python3
"$PY" -c "import torch" 2>/dev/null || { echo "python3-torch is not installed (apt-get install -y python3-torch)" >&2; exit 2; }
# Debian's torch calls whatever libblas.so.3 the alternatives system points at; the reference (Netlib) BLAS it falls
# back to is ~50x slower than OpenBLAS and would make any ratio meaningless.
BLAS=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$BLAS" in
  *openblas*|*mkl*|*blis*) ;;
  *) echo "libblas.so.3 is $BLAS, the reference BLAS: install an optimised one (apt-get install -y libopenblas0-pthread)" >&2; exit 2 ;;
esac
dotnet build src/Mspgt.Cli -c Release -v q -nologo >/dev/null
MSPGT="dotnet src/Mspgt.Cli/bin/Release/net10.0/mspgt.dll"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "torch $("$PY" -c 'import torch; print(torch.__version__)') on $BLAS, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $TOKENS tokens, $ROUNDS rounds"
for t in $THREADS; do
  m=(); p=()
  for ((r = 0; r < ROUNDS; r++)); do
    m+=("$($MSPGT bench --synthetic 110m --tokens "$TOKENS" --runs 3 -t "$t" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_s"])')")
    p+=("$(OMP_NUM_THREADS=$t "$PY" bench/pytorch_prefill.py "$TOKENS" 3 "$t")")
  done
  mm=$(printf '%s\n' "${m[@]}" | median); pm=$(printf '%s\n' "${p[@]}" | median)
  printf 'threads %s: mspgt %.1f tok/s, torch %.1f tok/s, ratio %.2f  (mspgt runs: %s; torch runs: %s)\n' \
    "$t" "$mm" "$pm" "$("$PY" -c "print($mm / $pm)")" "${m[*]}" "${p[*]}"
done
