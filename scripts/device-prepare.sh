#!/usr/bin/env bash
# Stages what scripts/gpu-check.sh needs for a GPU machine that receives only this checkout (the ../shared beside it
# does not travel), into one ignored folder, artifacts/device/ (about 40 MB):
#   artifacts/device/gpu-pack.tar.xz   scripts/gpu-pack.sh's framework-dependent publish and packed .NET runtime
#   artifacts/device/shared/           the parts of ../shared the check reads: the four tiny HF fixtures and
#                                      stories260K (parity goldens), the TinyStories sample (the 8B analyze's corpus)
# Then, with artifacts/device carried to the machine, one command from the repository root runs the whole check:
#   tar xJf artifacts/device/gpu-pack.tar.xz -C /tmp && /tmp/gpu-pack/gpu-check.sh --shared artifacts/device/shared --work /tmp --out "$OUT/gpu-check.json"
# Usage: scripts/device-prepare.sh [SHARED]   (SHARED defaults to ../shared beside the repository)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "${1:-$root/../shared}" && pwd)
out="$root/artifacts/device"
for p in fixtures/tiny-llama fixtures/tiny-qwen2 fixtures/tiny-qwen3 fixtures/tiny-llama3 models/stories260K corpora/tinystories-sample; do
  [ -d "$shared/$p" ] || { echo "device-prepare: $shared/$p not found (give the folder that holds fixtures/, models/ and corpora/)" >&2; exit 2; }
done
"$root/scripts/gpu-pack.sh"
rm -rf "$out"
mkdir -p "$out/shared/fixtures" "$out/shared/models" "$out/shared/corpora"
cp "$root/artifacts/gpu-pack.tar.xz" "$out/"
for p in tiny-llama tiny-qwen2 tiny-qwen3 tiny-llama3; do cp -r "$shared/fixtures/$p" "$out/shared/fixtures/"; done
cp -r "$shared/models/stories260K" "$out/shared/models/"
cp -r "$shared/corpora/tinystories-sample" "$out/shared/corpora/"
echo "device-prepare: $(du -sh "$out" | cut -f1) in $out; carry artifacts/device and run:"
echo "  tar xJf artifacts/device/gpu-pack.tar.xz -C /tmp && /tmp/gpu-pack/gpu-check.sh --shared artifacts/device/shared --work /tmp --out \"\$OUT/gpu-check.json\""
