using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// The leading eigenvectors come from inverse iteration on the tridiagonal matrix (dstein's scheme), then the
/// Householder reflections. Checked where the answer is known in closed form (the discrete Laplacian's sines), on the
/// classic hard case for inverse iteration (Wilkinson's W21+, whose top eigenvalues come in pairs equal to 1e-14), on
/// planted spectra with exactly repeated eigenvalues and on random matrices of sizes 1 to 400: every vector is an
/// eigenvector of the input to round-off, they are orthonormal, and each lies in the full decomposition's eigenspace of
/// its eigenvalue; the values are QL's bit for bit; the largest entry of each vector is positive; and decompositions
/// running at once on many threads give what one alone gives.
/// </summary>
public class InverseIterationTests
{
    public static TheoryData<int> Sizes => new() { 1, 2, 3, 37, 150, 400 };

    private static DenseMatrix Planted(int n)
    {
        // Clusters of equal eigenvalues (every fifth one repeated) and a wide range.
        var lambda = Enumerable.Range(0, n).Select(i => i % 5 == 0 && i > 0 ? 1.0 + 0.01 * (i - 1) * (i - 1) : 1.0 + 0.01 * i * i).ToArray();
        return TridiagonalPanelTests.WithSpectrum(lambda, 17 + n);
    }

    /// <summary>
    /// The leading <paramref name="k"/> vectors of <paramref name="a"/> against its full decomposition: eigenvalues
    /// bit for bit, ‖A v − λ v‖ within 1e-11 of ‖A‖, orthonormal within 1e-12, each within 1e-9 of the span of the
    /// full decomposition's vectors whose eigenvalues equal its own to 1e-6 of ‖A‖ (for a simple eigenvalue: the same
    /// vector up to sign), and its largest entry positive.
    /// </summary>
    internal static void AssertLeadingEigenvectors(DenseMatrix a, int k)
    {
        int n = a.Rows;
        var full = LinearAlgebra.SymmetricEigen(a);
        var top = LinearAlgebra.SymmetricEigen(a, k);
        int kk = Math.Min(k, n);
        Assert.Equal(full.Values, top.Values);
        Assert.Equal(full.Values, LinearAlgebra.SymmetricEigenvalues(a));
        Assert.Equal((n, kk), (top.Vectors.Rows, top.Vectors.Cols));
        double scale = Math.Max(1e-300, full.Values.Max(Math.Abs));
        var av = LinearAlgebra.Multiply(a, top.Vectors);
        var vtv = LinearAlgebra.TransposeMultiply(top.Vectors, top.Vectors);
        for (int c = 0; c < kk; c++)
        {
            for (int r = 0; r < n; r++)
                Assert.True(Math.Abs(av[r, c] - top.Values[c] * top.Vectors[r, c]) < 1e-11 * scale,
                    $"n = {n}, vector {c}: (Av − λv)[{r}] = {av[r, c] - top.Values[c] * top.Vectors[r, c]:E3}");
            for (int c2 = 0; c2 < kk; c2++)
                Assert.True(Math.Abs(vtv[c, c2] - (c == c2 ? 1 : 0)) < 1e-12, $"n = {n}: vᵀv[{c}, {c2}] = {vtv[c, c2]:R}");
            // v minus its projection on the full decomposition's eigenspace of λ_c
            var same = Enumerable.Range(0, n).Where(j => Math.Abs(full.Values[j] - top.Values[c]) <= 1e-6 * scale).ToArray();
            var rest = new double[n];
            for (int r = 0; r < n; r++) rest[r] = top.Vectors[r, c];
            foreach (int j in same)
            {
                double dot = 0;
                for (int r = 0; r < n; r++) dot += full.Vectors[r, j] * top.Vectors[r, c];
                for (int r = 0; r < n; r++) rest[r] -= dot * full.Vectors[r, j];
            }
            Assert.True(rest.Max(Math.Abs) < 1e-9, $"n = {n}, vector {c}: {rest.Max(Math.Abs):E3} outside its eigenspace ({same.Length} dimensions)");
            int at = 0;
            for (int r = 1; r < n; r++)
                if (Math.Abs(top.Vectors[r, c]) > Math.Abs(top.Vectors[at, c])) at = r;
            Assert.True(top.Vectors[at, c] > 0, $"n = {n}, vector {c}: largest entry {top.Vectors[at, c]}");
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void PlantedSpectrumWithRepeatedValues(int n) => AssertLeadingEigenvectors(Planted(n), 8);

    [Theory]
    [MemberData(nameof(Sizes))]
    public void RandomSymmetricMatrix(int n) => AssertLeadingEigenvectors(LinearAlgebraTests.RandomSymmetric(n, 5 + n), 8);

    /// <summary>Entries near 1e120 or 1e-120 (squares near 1e±240, far from a Gram matrix of float rows, near the
    /// range where QL's √(a² + b²) would have to be scaled and the reduction's norms would overflow or underflow): the
    /// same eigenvectors, and the eigenvalues scaled by the same factor.</summary>
    [Theory]
    [InlineData(1e120)]
    [InlineData(1e-120)]
    public void HugeAndTinyEntries(double factor)
    {
        var a = Planted(150);
        var scaled = a.Clone();
        for (int i = 0; i < scaled.Data.Length; i++) scaled.Data[i] *= factor;
        AssertLeadingEigenvectors(scaled, 8);
        var plain = LinearAlgebra.SymmetricEigenvalues(a);
        var big = LinearAlgebra.SymmetricEigenvalues(scaled);
        for (int i = 0; i < plain.Length; i++) Assert.Equal(plain[i], big[i] / factor, 1e-12 * plain[0]);
    }

    [Fact]
    public void TheDiscreteLaplaciansLeadingVectorsAreItsSines()
    {
        // T = tridiag(−1, 2, −1) of order n: λ_j = 2 − 2cos(jπ/(n+1)), v_j[i] ∝ sin(i·jπ/(n+1)) (i, j from 1); the
        // largest λ is j = n. The tridiagonal solver sees T itself (no reflection is needed).
        const int n = 400;
        var t = new DenseMatrix(n, n);
        for (int i = 0; i < n; i++)
        {
            t[i, i] = 2;
            if (i + 1 < n) t[i, i + 1] = t[i + 1, i] = -1;
        }
        var top = LinearAlgebra.SymmetricEigen(t, 8);
        for (int c = 0; c < 8; c++)
        {
            int j = n - c;
            Assert.Equal(2 - 2 * Math.Cos(j * Math.PI / (n + 1)), top.Values[c], 1e-13);
            var sine = Enumerable.Range(1, n).Select(i => Math.Sin(i * j * Math.PI / (n + 1))).ToArray();
            double norm = Math.Sqrt(sine.Sum(x => x * x)), dot = 0;
            for (int r = 0; r < n; r++) dot += sine[r] / norm * top.Vectors[r, c];
            double sign = Math.Sign(dot);
            for (int r = 0; r < n; r++) Assert.Equal(sign * sine[r] / norm, top.Vectors[r, c], 1e-10);
        }
    }

    [Fact]
    public void WilkinsonsMatrixWithItsNearlyEqualPairs()
    {
        // W21+: diagonal |10 − i|, off-diagonal 1. Its largest eigenvalues come in pairs that agree to about 1e-14
        // (10.746194182903..., twice): inverse iteration must still return two orthonormal vectors.
        var w = new DenseMatrix(21, 21);
        for (int i = 0; i < 21; i++)
        {
            w[i, i] = Math.Abs(10 - i);
            if (i + 1 < 21) w[i, i + 1] = w[i + 1, i] = 1;
        }
        AssertLeadingEigenvectors(w, 8);
        Assert.Equal(10.746194182903393, LinearAlgebra.SymmetricEigen(w, 2).Values[1], 1e-12);
    }

    [Fact]
    public void ADiagonalMatrixGivesUnitVectors()
    {
        var a = new DenseMatrix(6, 6);
        double[] d = [4, 6, 1, 5, 3, 2];
        for (int i = 0; i < 6; i++) a[i, i] = d[i];
        var e = LinearAlgebra.SymmetricEigen(a, 3);
        Assert.Equal([6.0, 5, 4, 3, 2, 1], e.Values);
        int[] at = [1, 3, 0];
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < 6; r++) Assert.Equal(r == at[c] ? 1.0 : 0.0, e.Vectors[r, c], 1e-15);
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
