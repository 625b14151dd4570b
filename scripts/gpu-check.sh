#!/usr/bin/env bash
# The GPU check, for a Linux machine with an NVIDIA GPU and no .NET SDK. Run it from the folder scripts/gpu-pack.sh
# made (it carries the .NET runtime and mspgt):
#   gpu-pack/gpu-check.sh --shared /path/to/shared [--device cuda:0] [--out gpu-check.json] [--work DIR] [--no-8b]
#                         [--no-cpu] [--python PATH]
# It writes one JSON file with:
#   parity_f32   the device's last-position logits against the F32 goldens of tiny-llama, tiny-qwen2, tiny-qwen3,
#                tiny-llama3 and stories260K, tolerance |Δ| ≤ 1e-4 + 1e-4·|golden| (cuBLAS SGEMM, TF32 off);
#   parity_bf16  the same with `--dtype bf16` (cublasGemmEx, bf16 inputs, f32 accumulate), and parity_f16 with f16:
#                per case, r_w = max |Δlogit| of the CPU's f32 pass over the weights rounded to that type, and the
#                device must give 0.1·r_w ≤ max |Δlogit| ≤ 3·r_w + 1e-3 (activations are rounded too: about twice
#                the weight-only error to first order; under 0.1·r_w would mean it did not round at all);
#   bench        `mspgt bench --device cuda --dtype bf16 --batch 16 --tokens 256` (attention statistics on, every
#                resid_post copied to the host) on the Llama-3.2-1B shape (--synthetic) and on the Llama-3.1-8B shape
#                written to disk once by `mspgt synth` (bf16, 15 GB, in --work), tokens/s and the runs; the 1B shape
#                also with the warp-reducing kernels' other form (MSPGT_GPU_ATTENTION=thread: attention and RMSNorm) and with the capture's
#                copies made while the device waits (MSPGT_GPU_OVERLAP=0);
#   analyze_8b   `mspgt analyze --device cuda --dtype bf16` on that 8B folder over 64 documents cut to 256 tokens
#                (made from the TinyStories sample: each a numbered header and the five stories in a rotated order),
#                end-to-end wall seconds (load, forward passes, every signal, the boundary tests, the files).
#   cpu          the CPU issue's figures on this host's cores (no GPU involved; the machines lent with a GPU have
#                16): `mspgt bench --device cpu --synthetic 110m --scaling 1,2,4,…,<cores>` (the 256-token prefill's
#                speed-up per thread count, paired rounds, with the compute loop's beside it; scaling_thread_pool: the
#                same with MSPGT_CPU_WORKERS=0, every loop through Parallel.For), and mspgt against
#                PyTorch eager fp32 on the same prefill (bench/pytorch_prefill.py) at 2 threads and at all cores,
#                interleaved, 3 rounds: medians and the ratio. PyTorch is the first of --python, /opt/torch/.venv's,
#                python3 that imports torch; none: the comparison says so and the rest goes on;
#                Last of all (after the 8B steps), cpu.signals: `mspgt analyze --device cpu` on all cores of the
#                Qwen2.5-0.5B shape in Q8_0 (`mspgt synth`, 151,936-token vocabulary) over the sample's first 4
#                documents (3 runs) and over 64 rotated ones (1 run), each cut to 256 tokens: every run's timings.json
#                (forward passes, per-document and corpus-level signals, their ratio to the forward passes);
#   step_seconds wall seconds of each step (to plan a device session's time);
#   attention_fallback  null, or the f32 parity of the default attention kernel when it failed (every later step then
#                ran with MSPGT_GPU_ATTENTION=thread).
# --no-8b skips the 8B steps (no 15 GB written), --no-cpu the CPU steps. The JSON is rewritten after every step, so a run cut short still
# leaves what it measured. Exit: 0 when f32, bf16 and f16 parity passed with the default kernels, 1 when one failed,
# 2 when there is no GPU or an argument is wrong.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared="" device="cuda" out="gpu-check.json" runs=3 work="${TMPDIR:-/tmp}" big=1 cpu=1 python=""
while [ $# -gt 0 ]; do
  case "$1" in
    --shared) shared="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --no-8b) big=0; shift ;;
    --no-cpu) cpu=0; shift ;;
    --python) python="$2"; shift 2 ;;
    -h|--help) sed -n '2,37p' "$0"; exit 0 ;;
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

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
f32='null' bf16='null' f16='null' bench="" analyze='null' cpu_json='null' f32_rc=1 bf16_rc=1 f16_rc=1 steps="" t_step=$(now) fallback='null'
# Wall seconds of the step that just ended, into step_seconds (to plan a time-limited device session).
took() { local t; t=$(now); steps="$steps${steps:+, }$(str "$1"): $(secs "$t_step" "$t")"; t_step=$t; }
# The JSON so far, written under a temporary name and renamed (never a half-written file).
save() {
  printf '{"gpu": %s, "mspgt": %s, "device": %s, "parity_f32": %s, "parity_bf16": %s, "parity_f16": %s, "bench": {%s}, "analyze_8b": %s, "cpu": %s, "step_seconds": {%s}, "attention_fallback": %s}\n' \
    "$(str "$gpu")" "$(str "$version")" "$(str "$device")" "$f32" "$bf16" "$f16" "$bench" "$analyze" "$cpu_json" "$steps" "$fallback" > "$out.tmp" && mv "$out.tmp" "$out"
}

echo "gpu-check: f32 parity on the fixtures" >&2
f32=$("$mspgt" bench --parity "$shared" --device "$device" --dtype f32 2>"$out.f32.err"); f32_rc=$?
[ -n "$f32" ] || f32="{\"error\": $(str "$(cat "$out.f32.err")")}"
took parity_f32
save
# Insurance for a first run on real hardware: if the default attention kernel (a warp per row on CUDA) fails f32
# parity, the parity is run again with the other form, which every later step then uses (attention_fallback keeps
# the failed default's result), so the rest of the check still measures something.
if [ "$f32_rc" -ne 0 ] && [ -z "${MSPGT_GPU_ATTENTION:-}" ]; then
  echo "gpu-check: f32 parity failed with the default attention kernel; again with MSPGT_GPU_ATTENTION=thread" >&2
  fallback="{\"parity_f32_default_kernel\": $f32}"
  export MSPGT_GPU_ATTENTION=thread
  f32=$("$mspgt" bench --parity "$shared" --device "$device" --dtype f32 2>"$out.f32.err"); f32_rc=$?
  [ -n "$f32" ] || f32="{\"error\": $(str "$(cat "$out.f32.err")")}"
  took parity_f32_thread_kernel
  save
fi

echo "gpu-check: bf16 parity" >&2
bf16=$("$mspgt" bench --parity "$shared" --device "$device" --dtype bf16 2>"$out.bf16.err"); bf16_rc=$?
[ -n "$bf16" ] || bf16="{\"error\": $(str "$(cat "$out.bf16.err")")}"
took parity_bf16
save

echo "gpu-check: f16 parity" >&2
f16=$("$mspgt" bench --parity "$shared" --device "$device" --dtype f16 2>"$out.f16.err"); f16_rc=$?
[ -n "$f16" ] || f16="{\"error\": $(str "$(cat "$out.f16.err")")}"
took parity_f16
save

# One timed bench: its JSON, or the error it printed.
bench_one() {   # label, then mspgt bench's model arguments
  local label="$1"; shift
  echo "gpu-check: bench $label, 16 × 256 tokens" >&2
  local r
  r=$("$mspgt" bench --device "$device" --dtype bf16 "$@" --batch 16 --tokens 256 --runs "$runs" --json 2>"$out.bench.err")
  [ -n "$r" ] || r="{\"error\": $(str "$(cat "$out.bench.err")")}"
  bench="$bench${bench:+, }$(str "$label"): $r"
  took "bench_$label"
  save
}
bench_one llama-3.2-1b --synthetic llama-3.2-1b
# The fused attention kernel's other form (a thread per row and head, local-memory vectors) on the same shape, so
# that the default (a warp per row and head) is chosen on a measurement.
if [ "$fallback" = null ]; then
  export MSPGT_GPU_ATTENTION=thread
  bench_one "llama-3.2-1b, thread-per-row attention" --synthetic llama-3.2-1b
  unset MSPGT_GPU_ATTENTION
fi
# The capture's copies with the device waiting for each (as before they overlapped the next block's compute).
MSPGT_GPU_OVERLAP=0 bench_one "llama-3.2-1b, capture copies not overlapped" --synthetic llama-3.2-1b

# The CPU issue's figures on this host's cores, before the long 8B steps (about a minute in all).
if [ "$cpu" -eq 1 ]; then
  cores=$(nproc)
  counts=1; c=2; while [ "$c" -lt "$cores" ]; do counts="$counts,$c"; c=$((c * 2)); done
  [ "$cores" -gt 1 ] && counts="$counts,$cores"
  echo "gpu-check: CPU thread scaling, 110M prefill, threads $counts" >&2
  scaling=$("$mspgt" bench --device cpu --synthetic 110m --tokens 256 --scaling "$counts" --runs 10 --json 2>"$out.cpu.err")
  [ -n "$scaling" ] || scaling="{\"error\": $(str "$(cat "$out.cpu.err")")}"
  # The same with every loop through the thread pool's Parallel.For instead of mspgt's fork-join workers.
  tpl=$(MSPGT_CPU_WORKERS=0 "$mspgt" bench --device cpu --synthetic 110m --tokens 256 --scaling "$counts" --runs 10 --json 2>>"$out.cpu.err")
  [ -n "$tpl" ] || tpl="{\"error\": $(str "$(cat "$out.cpu.err")")}"
  cpu_model=$(str "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)") torch='null' signals='null'
  cpu_doc() { cpu_json="{\"cores\": $cores, \"cpu_model\": $cpu_model, \"scaling\": $scaling, \"scaling_thread_pool\": $tpl, \"pytorch\": $torch, \"signals\": $signals}"; }
  cpu_doc
  took cpu_scaling
  save
  py=""
  for p in "$python" /opt/torch/.venv/bin/python python3; do
    if [ -n "$p" ] && "$p" -c "import torch" >/dev/null 2>&1; then py="$p"; break; fi
  done
  if [ -z "$py" ]; then
    torch="{\"error\": \"no python that imports torch (tried --python, /opt/torch/.venv/bin/python, python3)\"}"
  else
    echo "gpu-check: CPU against PyTorch eager fp32 ($py), 110M prefill, interleaved" >&2
    median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "null"; else print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
    rows=""
    for t in $(printf "%s\n" 2 "$cores" | sort -nu); do
      m=() p=()
      for r in 1 2 3; do
        m+=("$("$mspgt" bench --device cpu --synthetic 110m --tokens 256 --runs 3 -t "$t" --json 2>>"$out.cpu.err" | grep -m1 '"tokens_per_s"' | sed 's/.*: *\([0-9.eE+-]*\).*/\1/')")
        p+=("$(OMP_NUM_THREADS=$t MKL_NUM_THREADS=$t "$py" "$here/pytorch_prefill.py" 256 3 "$t" 2>>"$out.cpu.err")")
      done
      mm=$(printf '%s\n' "${m[@]}" | grep -E '^[0-9.eE+-]+$' | median); pm=$(printf '%s\n' "${p[@]}" | grep -E '^[0-9.eE+-]+$' | median)
      ratio=$(awk -v a="$mm" -v b="$pm" 'BEGIN { if (a == "null" || b == "null" || b == 0) print "null"; else printf "%.3f", a / b }')
      rows="$rows${rows:+, }{\"threads\": $t, \"mspgt_tok_s\": $mm, \"torch_tok_s\": $pm, \"ratio\": $ratio, \"mspgt_runs\": $(str "${m[*]}"), \"torch_runs\": $(str "${p[*]}")}"
    done
    torch="{\"python\": $(str "$py"), \"torch\": $(str "$("$py" -c 'import torch; print(torch.__version__, torch.get_num_threads())' 2>&1)"), \"note\": \"median of 3 interleaved rounds; mspgt: the median of 3 runs per round, torch: the best of 3\", \"rows\": [$rows], \"stderr_tail\": $(str "$(tail -c 1500 "$out.cpu.err")")}"
  fi
  cpu_doc
  took cpu_pytorch
  save
  rm -f "$out.cpu.err"
fi

if [ "$big" -eq 1 ]; then
  model="$work/mspgt-gpu-check-llama-3.1-8b" corpus="$work/mspgt-gpu-check-corpus.txt" runs_dir="$work/mspgt-gpu-check-analyze"
  rm -rf "$model" "$runs_dir"
  echo "gpu-check: writing the Llama-3.1-8B shape (bf16, 15 GB) to $model" >&2
  t0=$(now)
  if "$mspgt" synth --preset llama-3.1-8b --out "$model" >"$out.synth.err" 2>&1; then
    echo "gpu-check: synth took $(secs "$t0" "$(now)") s" >&2
    took synth_8b
    bench_one llama-3.1-8b --model "$model"
    # 64 documents: a numbered header, then the sample's five stories starting from a different one in each.
    "$here/rotated-corpus.sh" "$shared/corpora/tinystories-sample/stories.jsonl" "$corpus" 64
    echo "gpu-check: analyze, Llama-3.1-8B shape, 64 documents × 256 tokens" >&2
    t0=$(now)
    "$mspgt" analyze --model "$model" --corpus "$corpus" --max-tokens 256 --device "$device" --dtype bf16 --out "$runs_dir" -q >"$out.analyze.log" 2>&1
    rc=$?
    wall=$(secs "$t0" "$(now)")
    analyze="{\"command\": \"analyze --model <8B folder> --corpus <64 documents> --max-tokens 256 --device $device --dtype bf16\", \"rc\": $rc, \"wall_s\": $wall, \"log_tail\": $(str "$(tail -c 2000 "$out.analyze.log")"), \"summary_head\": $(str "$(head -c 3000 "$runs_dir/summary.json" 2>/dev/null)")}"
    echo "gpu-check: analyze rc $rc in $wall s" >&2
    took analyze_8b
  else
    analyze="{\"error\": $(str "synth failed: $(tail -c 2000 "$out.synth.err")")}"
  fi
  save
  rm -rf "$model" "$runs_dir" "$corpus" "$out.synth.err" "$out.analyze.log"
fi
# The signals' cost beside the forward passes on this host's cores (issue 13: ≤ 1×), last: the GPU figures come first.
if [ "$cpu" -eq 1 ]; then
  q="$work/mspgt-gpu-check-qwen-q8_0.gguf" sig_out="$work/mspgt-gpu-check-signals"
  d4="$work/mspgt-gpu-check-d4.jsonl" d64="$work/mspgt-gpu-check-d64.txt"
  echo "gpu-check: CPU analyze, signals against forward passes, Qwen2.5-0.5B shape Q8_0, $cores cores" >&2
  mkdir -p "$work"
  head -4 "$shared/corpora/tinystories-sample/stories.jsonl" > "$d4"
  "$here/rotated-corpus.sh" "$shared/corpora/tinystories-sample/stories.jsonl" "$d64" 64
  if "$mspgt" synth --preset qwen2.5-0.5b --out "$q" --dtype q8_0 >"$out.signals.err" 2>&1; then
    runs_json=""
    for d in 4 4 4 64; do
      [ "$d" = 4 ] && corpus="$d4" || corpus="$d64"
      rm -rf "$sig_out"
      if "$mspgt" analyze --model "$q" --corpus "$corpus" --max-tokens 256 --device cpu --out "$sig_out" -q >"$out.signals.err" 2>&1; then
        runs_json="$runs_json${runs_json:+, }$(tr -d '\n' < "$sig_out/timings.json")"
      else
        runs_json="$runs_json${runs_json:+, }{\"documents\": $d, \"error\": $(str "$(tail -c 1000 "$out.signals.err")")}"
      fi
      signals="{\"model\": \"qwen2.5-0.5b shape, Q8_0\", \"max_tokens\": 256, \"runs\": [$runs_json]}"
      cpu_doc
      save
    done
  else
    signals="{\"error\": $(str "synth failed: $(tail -c 1000 "$out.signals.err")")}"
    cpu_doc
  fi
  took cpu_signals
  rm -rf "$q" "$sig_out" "$d4" "$d64" "$out.signals.err"
fi
rm -f "$out.f32.err" "$out.bf16.err" "$out.f16.err" "$out.bench.err"
save
echo "gpu-check: wrote $out" >&2
[ "$f32_rc" -eq 0 ] && [ "$bf16_rc" -eq 0 ] && [ "$f16_rc" -eq 0 ] && [ "$fallback" = null ] && exit 0 || exit 1
