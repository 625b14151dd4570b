using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// The leading eigenvectors are taken back through QL's rotations without keeping them: QL's state is kept every
/// stretch of rotations and each stretch is remade from it. Whatever the stretch (the state before every sweep, a few
/// sweeps, the default, or one run for all), the values and vectors are the same bit for bit, on a planted spectrum
/// with repeated eigenvalues, a random matrix, a diagonal one (no rotation at all) and the smallest sizes; and
/// decompositions running at once on many threads give what one alone gives.
/// </summary>
public class QlReplayTests
{
    public static TheoryData<int> Sizes => new() { 1, 2, 3, 37, 150, 400 };

    private static DenseMatrix Planted(int n)
    {
        // Clusters of equal eigenvalues (every fifth one repeated) and a wide range.
        var lambda = Enumerable.Range(0, n).Select(i => i % 5 == 0 && i > 0 ? 1.0 + 0.01 * (i - 1) * (i - 1) : 1.0 + 0.01 * i * i).ToArray();
        return TridiagonalPanelTests.WithSpectrum(lambda, 17 + n);
    }

    private static DenseMatrix RandomSymmetric(int n, int seed)
    {
        var r = new Random(seed);
        var a = new DenseMatrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) a[i, j] = a[j, i] = r.NextDouble() * 2 - 1;
        return a;
    }

    private static void AssertSameWhateverTheStretch(DenseMatrix a, int vectors)
    {
        var reference = LinearAlgebra.SymmetricEigen(a, vectors, int.MaxValue);
        foreach (int stretch in new[] { 1, 37, LinearAlgebra.QlStretch(a.Rows) })
        {
            var e = LinearAlgebra.SymmetricEigen(a, vectors, stretch);
            Assert.Equal(reference.Values, e.Values);
            Assert.Equal(reference.Vectors.Data, e.Vectors.Data);
        }
        Assert.Equal(reference.Vectors.Data, LinearAlgebra.SymmetricEigen(a, vectors).Vectors.Data);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void PlantedSpectrumWithRepeatedValues(int n) => AssertSameWhateverTheStretch(Planted(n), Math.Min(8, n));

    [Theory]
    [MemberData(nameof(Sizes))]
    public void RandomSymmetricMatrix(int n) => AssertSameWhateverTheStretch(RandomSymmetric(n, 5 + n), Math.Min(8, n));

    [Fact]
    public void ADiagonalMatrixMakesNoRotation()
    {
        var a = new DenseMatrix(6, 6);
        for (int i = 0; i < 6; i++) a[i, i] = 6 - i;
        var e = LinearAlgebra.SymmetricEigen(a, 3, 1);
        Assert.Equal([6.0, 5, 4, 3, 2, 1], e.Values);
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < 6; r++) Assert.Equal(r == c ? 1.0 : 0.0, Math.Abs(e.Vectors[r, c]));
    }

    /// <summary>The vectors are eigenvectors: A·v = λ·v to round-off, orthonormal, and span what the full
    /// decomposition's leading columns span (checked column by column up to sign where the values are distinct).</summary>
    [Fact]
    public void TheVectorsAreTheLeadingEigenvectors()
    {
        var a = RandomSymmetric(120, 8);
        var leading = LinearAlgebra.SymmetricEigen(a, 8, 1);
        var full = LinearAlgebra.SymmetricEigen(a);
        for (int c = 0; c < 8; c++)
        {
            Assert.Equal(full.Values[c], leading.Values[c], 1e-12);
            double dot = 0;
            for (int r = 0; r < 120; r++) dot += full.Vectors[r, c] * leading.Vectors[r, c];
            Assert.Equal(1.0, Math.Abs(dot), 1e-9);
            for (int r = 0; r < 120; r++)
            {
                double av = 0;
                for (int k = 0; k < 120; k++) av += a[r, k] * leading.Vectors[k, c];
                Assert.Equal(leading.Values[c] * leading.Vectors[r, c], av, 1e-10);
            }
        }
    }

    [Fact]
    public void DecompositionsAtOnceOnManyThreadsGiveWhatOneAloneGives()
    {
        var a = Planted(300);
        var alone = LinearAlgebra.SymmetricEigen(a, 8);
        var results = new SymmetricEigen[12];
        using var start = new Barrier(results.Length);
        var threads = Enumerable.Range(0, results.Length).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            results[i] = LinearAlgebra.SymmetricEigen(a, 8);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        foreach (var r in results)
        {
            Assert.Equal(alone.Values, r.Values);
            Assert.Equal(alone.Vectors.Data, r.Vectors.Data);
        }
    }
}
