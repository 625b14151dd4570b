#!/usr/bin/env bash
# mspgt against PyTorch eager fp32 on llama2.c's 110M shape, one prefill, interleaved (mspgt, torch, mspgt, ...)
# so that both see the same machine load. Needs Debian's python3-torch (apt-get install -y python3-torch); installs
# nothing. Usage: bench/pytorch-compare.sh [TOKENS=256] [ROUNDS=3] [THREADS="1 2"]
# Prints, per thread count, the median tokens/s of each and the ratio mspgt / torch. Debian's torch hands its matrix
# products to OpenBLAS, whose own thread pool follows OPENBLAS_NUM_THREADS (else OMP_NUM_THREADS): with t > 1 torch
# runs two ways, its default (torch and OpenBLAS both at t threads) and OpenBLAS alone at t (torch's own loops at 1),
# which on 2 cores is 2-3x faster than the default; the ratio is against the faster of the two. torch reports its
# best run, mspgt the median of its runs: the comparison leans towards torch.
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
  m=(); p=(); b=()
  for ((r = 0; r < ROUNDS; r++)); do
    m+=("$($MSPGT bench --synthetic 110m --tokens "$TOKENS" --runs 3 -t "$t" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_s"])')")
    p+=("$(OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$PY" bench/pytorch_prefill.py "$TOKENS" 3 "$t")")
    if ((t > 1)); then b+=("$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=$t "$PY" bench/pytorch_prefill.py "$TOKENS" 3 1)"); fi
  done
  mm=$(printf '%s\n' "${m[@]}" | median); pm=$(printf '%s\n' "${p[@]}" | median)
  best=$pm; extra=""
  if ((t > 1)); then
    bm=$(printf '%s\n' "${b[@]}" | median)
    best=$("$PY" -c "print(max($pm, $bm))")
    extra=$(printf '; torch with OpenBLAS alone at %s threads %.1f tok/s (runs: %s)' "$t" "$bm" "${b[*]}")
  fi
  printf 'threads %s: mspgt %.1f tok/s, torch %.1f tok/s%s; ratio to the faster torch %.2f  (mspgt runs: %s; torch runs: %s)\n' \
    "$t" "$mm" "$pm" "$extra" "$("$PY" -c "print($mm / $best)")" "${m[*]}" "${p[*]}"
done
