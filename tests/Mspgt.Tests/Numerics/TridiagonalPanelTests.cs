using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// The Householder reduction runs in panels of <see cref="LinearAlgebra.TridiagonalPanel"/> reflections while the
/// trailing block is larger than <see cref="LinearAlgebra.TridiagonalCrossover"/>: rows inside a panel are brought up
/// to date one at a time and the rows below take the panel's reflections at once; the last block goes a reflection at
/// a time. Checked where the answer is known: spectra planted by an orthogonal similarity at sizes below the
/// crossover, just above it (one panel) and across several panel boundaries, a
/// block-diagonal matrix whose already-reduced rows fall inside a panel (steps that add no reflection), and the
/// panel update itself against a scalar chain of fused multiply-adds, bit for bit, through its wide, single-vector
/// and scalar columns.
/// </summary>
public class TridiagonalPanelTests
{
    internal static DenseMatrix WithSpectrum(double[] lambda, int seed)
    {
        int n = lambda.Length;
        // A random orthogonal Q by Gram–Schmidt (no eigen-decomposition in the making of the test's input).
        var q = Mspgt.Tests.Signals.Estimators.Synthetic.OrthonormalColumns(n, n, new Random(seed));
        var a = new DenseMatrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += q[i, k] * lambda[k] * q[j, k];
                a[i, j] = s;
            }
        for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) a[i, j] = a[j, i] = 0.5 * (a[i, j] + a[j, i]);
        return a;
    }

    private static void AssertDecomposes(DenseMatrix a, double[] expectedDescending, double tolerance)
    {
        int n = a.Rows;
        var eig = LinearAlgebra.SymmetricEigen(a);
        double scale = Math.Max(1, expectedDescending.Max(Math.Abs));
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(eig.Values[i] - expectedDescending[i]) <= tolerance * scale,
            $"eigenvalue {i}: {eig.Values[i]} against {expectedDescending[i]} (n = {n})");
        for (int c = 0; c < n; c++)
            for (int i = 0; i < n; i++)
            {
                double av = 0, vv = 0;
                for (int k = 0; k < n; k++) { av += a[i, k] * eig.Vectors[k, c]; }
                Assert.True(Math.Abs(av - eig.Values[c] * eig.Vectors[i, c]) <= tolerance * scale, $"residual of vector {c} at {i} (n = {n})");
                for (int k = 0; k < n; k++) vv += eig.Vectors[k, i] * eig.Vectors[k, c];
                Assert.True(Math.Abs(vv - (i == c ? 1 : 0)) <= tolerance, $"vectors {i} and {c} not orthonormal (n = {n})");
            }
        Assert.Equal(eig.Values, LinearAlgebra.SymmetricEigenvalues(a));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(33)]
    [InlineData(34)]
    [InlineData(35)]
    [InlineData(65)]
    [InlineData(66)]
    [InlineData(97)]
    [InlineData(127)]
    [InlineData(257)]
    [InlineData(290)]
    [InlineData(353)]
    [InlineData(400)]   // a working copy over 1 MB: a new array rather than the shared pool's
    public void PlantedSpectraAreFoundOnBothSidesOfPanelBoundaries(int n)
    {
        // Distinct, spread and signed eigenvalues, one pair 1e-9 apart.
        var lambda = Enumerable.Range(0, n).Select(i => 10.0 / (i + 1) - 1.5 + (i == 1 ? 1e-9 : 0)).ToArray();
        if (n > 2) lambda[2] = lambda[1] - 1e-9;
        AssertDecomposes(WithSpectrum(lambda, 40 + n), lambda.OrderByDescending(x => x).ToArray(), 1e-11);
    }

    [Fact]
    public void RowsAlreadyReducedInsideAPanelAddNoReflection()
    {
        // Blocks of 40, 1 and 260: rows 38, 39 and 40 have nothing right of their next entry, inside the second
        // panel (rows 32-63; panels run while more than TridiagonalCrossover rows remain).
        var b1 = WithSpectrum(Enumerable.Range(0, 40).Select(i => 1.0 + i).ToArray(), 3);
        var b2 = WithSpectrum(Enumerable.Range(0, 260).Select(i => -2.0 + 0.25 * i).ToArray(), 4);
        int n = 301;
        Assert.True(n - 32 > LinearAlgebra.TridiagonalCrossover);
        var a = new DenseMatrix(n, n);
        for (int i = 0; i < 40; i++) for (int j = 0; j < 40; j++) a[i, j] = b1[i, j];
        a[40, 40] = 7.5;
        for (int i = 0; i < 260; i++) for (int j = 0; j < 260; j++) a[41 + i, 41 + j] = b2[i, j];
        var expected = Enumerable.Range(0, 40).Select(i => 1.0 + i).Append(7.5).Concat(Enumerable.Range(0, 260).Select(i => -2.0 + 0.25 * i))
            .OrderByDescending(x => x).ToArray();
        AssertDecomposes(a, expected, 1e-11);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 1)]
    [InlineData(3, 5)]
    [InlineData(7, 32)]
    [InlineData(70, 17)]
    [InlineData(99, 32)]
    public void ThePanelUpdateIsOneChainOfFusedMultiplyAddsPerElement(int row, int count)
    {
        const int n = 101;   // columns: wide blocks, then single vectors, then a scalar tail, wherever the row's diagonal is
        var r = new Random(row * 100 + count);
        double[] Fill(int len) => Enumerable.Range(0, len).Select(_ => r.NextDouble() * 2 - 1).ToArray();
        var (vt, wt) = (Fill(LinearAlgebra.TridiagonalPanel * n), Fill(LinearAlgebra.TridiagonalPanel * n));
        var a = Fill(n * n);
        var expected = (double[])a.Clone();
        for (int c = row; c < n; c++)
        {
            double acc = expected[row * n + c];
            for (int t = 0; t < count; t++)
                acc = Math.FusedMultiplyAdd(-wt[t * n + row], vt[t * n + c], Math.FusedMultiplyAdd(-vt[t * n + row], wt[t * n + c], acc));
            expected[row * n + c] = acc;
        }
        LinearAlgebra.SubtractPanel(a, row, n, vt, wt, count);
        Assert.Equal(expected, a);   // the row from its diagonal on changed as the scalar chain says; all else untouched
    }

    /// <summary>Two rows at once (the rows below a panel go in pairs): each element of both is the same chain, bit for bit.</summary>
    [Theory]
    [InlineData(0, 32)]
    [InlineData(7, 1)]
    [InlineData(7, 32)]
    [InlineData(70, 17)]
    [InlineData(99, 32)]
    public void ThePairedPanelUpdateIsTheSameChainForBothRows(int row, int count)
    {
        const int n = 101;
        var r = new Random(row * 100 + count + 7);
        double[] Fill(int len) => Enumerable.Range(0, len).Select(_ => r.NextDouble() * 2 - 1).ToArray();
        var (vt, wt) = (Fill(LinearAlgebra.TridiagonalPanel * n), Fill(LinearAlgebra.TridiagonalPanel * n));
        var a = Fill(n * n);
        var expected = (double[])a.Clone();
        foreach (int rr in new[] { row, row + 1 })
            for (int c = rr; c < n; c++)
            {
                double acc = expected[rr * n + c];
                for (int t = 0; t < count; t++)
                    acc = Math.FusedMultiplyAdd(-wt[t * n + rr], vt[t * n + c], Math.FusedMultiplyAdd(-vt[t * n + rr], wt[t * n + c], acc));
                expected[rr * n + c] = acc;
            }
        LinearAlgebra.SubtractPanelPair(a, row, n, vt, wt, count);
        Assert.Equal(expected, a);
    }
}
