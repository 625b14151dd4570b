namespace Mspgt.Tests.Scales;

/// <summary>Synthetic layer × signal data with planted boundaries (piecewise-constant means + Gaussian noise).</summary>
internal static class Synthetic
{
    public static double Gaussian(Random rng)
    {
        // Box–Muller; 1 − U keeps the logarithm's argument in (0, 1].
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>
    /// Means: every signal starts at a random level and jumps by ±<paramref name="jump"/> (random sign) at each
    /// planted boundary (convention: the boundary is the first layer of the next segment).
    /// </summary>
    public static double[,] PlantedMeans(Random rng, int layers, int signals, int[] boundaries, double jump = 1.0)
    {
        var means = new double[layers, signals];
        for (int s = 0; s < signals; s++)
        {
            double level = rng.NextDouble() * 4 - 2;
            int next = 0;
            for (int l = 0; l < layers; l++)
            {
                while (next < boundaries.Length && l == boundaries[next])
                {
                    level += rng.Next(2) == 0 ? jump : -jump;
                    next++;
                }
                means[l, s] = level;
            }
        }
        return means;
    }

    public static double[,] AddNoise(Random rng, double[,] means, double sd)
    {
        var x = (double[,])means.Clone();
        for (int l = 0; l < x.GetLength(0); l++)
            for (int s = 0; s < x.GetLength(1); s++)
                x[l, s] += sd * Gaussian(rng);
        return x;
    }

    /// <summary>D documents, each the planted means plus independent noise of sd <paramref name="sd"/>.</summary>
    public static double[,,] Documents(Random rng, double[,] means, int documents, double sd)
    {
        int l = means.GetLength(0), s = means.GetLength(1);
        var docs = new double[documents, l, s];
        for (int d = 0; d < documents; d++)
            for (int i = 0; i < l; i++)
                for (int j = 0; j < s; j++)
                    docs[d, i, j] = means[i, j] + sd * Gaussian(rng);
        return docs;
    }

    /// <summary>Two boundaries at random positions on 24 layers, segments at least 5 layers long.</summary>
    public static int[] RandomTwoBoundaries(Random rng) => [rng.Next(5, 11), rng.Next(14, 20)];

    public static string[] Names(int signals) => Enumerable.Range(0, signals).Select(i => $"s{i}").ToArray();

    public static double[,] Random(Random rng, int layers, int signals)
    {
        var x = new double[layers, signals];
        for (int l = 0; l < layers; l++)
            for (int s = 0; s < signals; s++)
                x[l, s] = rng.NextDouble() * 10 - 5;
        return x;
    }
}
