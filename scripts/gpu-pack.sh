#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh needs on a Linux NVIDIA machine that has no .NET SDK, into one ignored folder:
#   artifacts/gpu-pack/app/          framework-dependent publish of the CLI (linux-x64, no other platforms' natives)
#   artifacts/gpu-pack/dotnet/       the .NET runtime this SDK runs on: dotnet, host/, shared/Microsoft.NETCore.App/<ver>/
#   artifacts/gpu-pack/gpu-check.sh  the check itself, and rotated-corpus.sh, which writes its 8B analyze's corpus
#   artifacts/gpu-pack/pytorch_prefill.py  PyTorch's side of its CPU comparison (run only where torch is installed)
#   artifacts/gpu-pack.tar.xz        all of the above, to copy to the GPU machine
# The shared fixtures are not packed (they live outside the repository); gpu-check.sh takes their folder.
# Usage: scripts/gpu-pack.sh            then: scp artifacts/gpu-pack.tar.xz gpu-host: && ssh gpu-host
#        tar xJf gpu-pack.tar.xz && gpu-pack/gpu-check.sh --shared /path/to/shared
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/artifacts/gpu-pack"
rm -rf "$out" "$root/artifacts/gpu-pack.tar.xz"
mkdir -p "$out/dotnet/shared/Microsoft.NETCore.App"

dotnet publish "$root/src/Mspgt.Cli" -c Release -r linux-x64 --self-contained false -p:UseAppHost=true \
  -o "$out/app" --nologo -v quiet
# Native libraries of other platforms (ScottPlot's SkiaSharp/HarfBuzz ship several) are not needed on linux-x64.
if [ -d "$out/app/runtimes" ]; then
  for d in "$out/app/runtimes"/*; do case "$(basename "$d")" in linux-x64|linux|unix) ;; *) rm -rf "$d" ;; esac; done
fi

# The runtime the publish targets: Microsoft.NETCore.App of the installed .NET that matches its major version.
want=$(sed -n 's/.*"version": *"\([0-9][0-9.]*\)".*/\1/p' "$out/app/mspgt.runtimeconfig.json" | head -1)
line=$(dotnet --list-runtimes | awk -v v="${want%%.*}" '$1 == "Microsoft.NETCore.App" && index($2, v ".") == 1' | tail -1)
[ -n "$line" ] || { echo "gpu-pack: no Microsoft.NETCore.App ${want} runtime found by 'dotnet --list-runtimes'" >&2; exit 2; }
ver=$(echo "$line" | awk '{print $2}')
base=$(echo "$line" | sed 's/.*\[\(.*\)\]/\1/')          # .../shared/Microsoft.NETCore.App
dotnet_root=$(cd "$base/../.." && pwd)
cp -a "$base/$ver" "$out/dotnet/shared/Microsoft.NETCore.App/"
cp -a "$dotnet_root/host" "$out/dotnet/"
cp -a "$dotnet_root/dotnet" "$out/dotnet/"
cp "$root/scripts/gpu-check.sh" "$root/scripts/rotated-corpus.sh" "$out/"
cp "$root/bench/pytorch_prefill.py" "$out/"
chmod +x "$out/gpu-check.sh" "$out/rotated-corpus.sh"

tar -C "$root/artifacts" -cJf "$root/artifacts/gpu-pack.tar.xz" gpu-pack
echo "gpu-pack: $(du -sh "$out" | cut -f1) in $out, $(du -h "$root/artifacts/gpu-pack.tar.xz" | cut -f1) as artifacts/gpu-pack.tar.xz (runtime $ver)"
