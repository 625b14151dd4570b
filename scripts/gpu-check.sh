#!/usr/bin/env bash
# The GPU check, for a Linux machine with an NVIDIA GPU and no .NET SDK. Run it from the folder scripts/gpu-pack.sh
# made (it carries the .NET runtime and mspgt):
#   gpu-pack/gpu-check.sh --shared /path/to/shared [--device cuda:0] [--out gpu-check.json]
# It writes one JSON file with:
#   parity_f32   the device's last-position logits against the F32 goldens of tiny-llama, tiny-qwen2, tiny-qwen3,
#                tiny-llama3 and stories260K, tolerance |Δ| ≤ 1e-4 + 1e-4·|golden| (cuBLAS SGEMM, TF32 off);
#   parity_bf16  the same with `--dtype bf16` (cublasGemmEx, bf16 inputs, f32 accumulate), and parity_f16 with f16:
#                per case, r_w = max |Δlogit| of the CPU's f32 pass over the weights rounded to that type, and the
#                device must give 0.1·r_w ≤ max |Δlogit| ≤ 3·r_w + 1e-3 (activations are rounded too: about twice
#                the weight-only error to first order; under 0.1·r_w would mean it did not round at all);
#   bench        `mspgt bench --device cuda --dtype bf16 --synthetic llama-3.2-1b|llama-3.1-8b --batch 16 --tokens 256`
#                (attention statistics on), tokens/s and the runs.
# Exit: 0 when f32, bf16 and f16 parity passed, 1 when one failed, 2 when there is no GPU or an argument is wrong.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared="" device="cuda" out="gpu-check.json" runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --shared) shared="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ -x "$here/dotnet/dotnet" ]; then export DOTNET_ROOT="$here/dotnet" PATH="$here/dotnet:$PATH"; fi
mspgt="$here/app/mspgt"
[ -x "$mspgt" ] || { echo "gpu-check: $mspgt not found: run scripts/gpu-pack.sh and use the folder it made" >&2; exit 2; }
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU or driver on this machine (nvidia-smi is missing or failed); nothing to check" >&2
  exit 2
fi
[ -d "$shared/fixtures" ] && [ -d "$shared/models" ] \
  || { echo "gpu-check: --shared must name the folder that holds fixtures/ and models/ (got '${shared}')" >&2; exit 2; }

# A JSON string of arbitrary text (one line).
str() { printf '"%s"' "$(printf '%s' "$1" | tr '\n' ' ' | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)
version=$("$mspgt" --version 2>&1 | head -1)
echo "gpu-check: $gpu; $version" >&2

echo "gpu-check: f32 parity on the fixtures" >&2
f32=$("$mspgt" bench --parity "$shared" --device "$device" --dtype f32 2>"$out.f32.err"); f32_rc=$?
[ -n "$f32" ] || f32="{\"error\": $(str "$(cat "$out.f32.err")")}"

echo "gpu-check: bf16 parity" >&2
bf16=$("$mspgt" bench --parity "$shared" --device "$device" --dtype bf16 2>"$out.bf16.err"); bf16_rc=$?
[ -n "$bf16" ] || bf16="{\"error\": $(str "$(cat "$out.bf16.err")")}"

echo "gpu-check: f16 parity" >&2
f16=$("$mspgt" bench --parity "$shared" --device "$device" --dtype f16 2>"$out.f16.err"); f16_rc=$?
[ -n "$f16" ] || f16="{\"error\": $(str "$(cat "$out.f16.err")")}"

bench=""
for shape in llama-3.2-1b llama-3.1-8b; do
  echo "gpu-check: bench $shape, 16 × 256 tokens" >&2
  r=$("$mspgt" bench --device "$device" --dtype bf16 --synthetic "$shape" --batch 16 --tokens 256 --runs "$runs" --json 2>"$out.bench.err")
  [ -n "$r" ] || r="{\"error\": $(str "$(cat "$out.bench.err")")}"
  bench="$bench${bench:+, }$(str "$shape"): $r"
done
rm -f "$out.f32.err" "$out.bf16.err" "$out.f16.err" "$out.bench.err"

tmp="$out.tmp"
printf '{"gpu": %s, "mspgt": %s, "device": %s, "parity_f32": %s, "parity_bf16": %s, "parity_f16": %s, "bench": {%s}}\n' \
  "$(str "$gpu")" "$(str "$version")" "$(str "$device")" "$f32" "$bf16" "$f16" "$bench" > "$tmp" && mv "$tmp" "$out"
echo "gpu-check: wrote $out" >&2
[ "$f32_rc" -eq 0 ] && [ "$bf16_rc" -eq 0 ] && [ "$f16_rc" -eq 0 ] && exit 0 || exit 1
