using Mspgt.Checkpoints;
using Mspgt.Numerics;

namespace Mspgt.Bench;

/// <summary>Inputs shared by the suites: random weights of any stored type, random activations, the shared data folder.</summary>
public static class BenchData
{
    /// <summary>Random stored bytes of a type, its fp16 scale fields set to small finite values (decode cost is the real one).</summary>
    public static WeightMatrix RandomWeights(TensorType type, int rows, int cols, int seed = 1)
    {
        var rng = new Random(seed);
        var b = GC.AllocateUninitializedArray<byte>(checked((int)(TensorTypeInfo.RowBytes(type, cols) * rows)), pinned: true);
        rng.NextBytes(b);
        void Half16(long at, float v)
        {
            ushort u = BitConverter.HalfToUInt16Bits((Half)v);
            b[at] = (byte)u;
            b[at + 1] = (byte)(u >> 8);
        }
        int bb = TensorTypeInfo.BlockBytes(type);
        switch (type)
        {
            case TensorType.F32:
                for (int i = 0; i < b.Length; i += 4) BitConverter.TryWriteBytes(b.AsSpan(i, 4), (float)(rng.NextDouble() * 2 - 1));
                break;
            case TensorType.F16:
                for (int i = 0; i < b.Length; i += 2) Half16(i, (float)(rng.NextDouble() * 2 - 1));
                break;
            case TensorType.BF16:
                for (int i = 1; i < b.Length; i += 2) b[i] = (byte)((b[i] & 0x80) | 0x3C); // |value| in [2^-7, 2^-5)
                break;
            case TensorType.Q8_0 or TensorType.Q4_0:
                for (int k = 0; k < b.Length; k += bb) Half16(k, 0.01f);
                break;
            case TensorType.Q4_K:
                for (int k = 0; k < b.Length; k += bb) { Half16(k, 0.01f); Half16(k + 2, 0.002f); }
                break;
            case TensorType.Q6_K:
                for (int k = 0; k < b.Length; k += bb) Half16(k + 208, 0.001f);
                break;
        }
        return WeightMatrix.FromBytes($"random {type}", rows, cols, type, b);
    }

    public static float[] RandomFloats(int n, int seed = 2)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>The shared data folder: MSPGT_SHARED, else the first "shared" folder with models/ above the binaries.</summary>
    public static string SharedDir()
    {
        var env = Environment.GetEnvironmentVariable("MSPGT_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "models"))) return candidate;
        }
        throw new DirectoryNotFoundException("shared data folder not found: set MSPGT_SHARED");
    }
}
