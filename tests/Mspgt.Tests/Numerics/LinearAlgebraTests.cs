using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

public class LinearAlgebraTests
{
    internal static DenseMatrix RandomMatrix(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var m = new DenseMatrix(rows, cols);
        for (int k = 0; k < m.Data.Length; k++) m.Data[k] = rng.NextDouble() * 2 - 1;
        return m;
    }

    internal static DenseMatrix RandomSymmetric(int n, int seed)
    {
        var m = RandomMatrix(n, n, seed);
        var s = new DenseMatrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                s[i, j] = m[i, j] + m[j, i];
        return s;
    }

    private static DenseMatrix NaiveMultiply(DenseMatrix a, DenseMatrix b)
    {
        var c = new DenseMatrix(a.Rows, b.Cols);
        for (int i = 0; i < a.Rows; i++)
            for (int j = 0; j < b.Cols; j++)
            {
                double s = 0;
                for (int k = 0; k < a.Cols; k++) s += a[i, k] * b[k, j];
                c[i, j] = s;
            }
        return c;
    }

    private static void AssertClose(DenseMatrix expected, DenseMatrix actual, double tol)
    {
        Assert.Equal(expected.Rows, actual.Rows);
        Assert.Equal(expected.Cols, actual.Cols);
        for (int k = 0; k < expected.Data.Length; k++)
            Assert.True(Math.Abs(expected.Data[k] - actual.Data[k]) <= tol,
                $"entry {k}: expected {expected.Data[k]}, got {actual.Data[k]}");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 5, 3)]
    [InlineData(37, 1030, 9)]   // odd sizes exercise every edge of the blocked kernel and several t-chunks
    [InlineData(64, 40, 66)]
    public void ProductsMatchTheNaiveTripleLoop(int p, int len, int q)
    {
        var a = RandomMatrix(p, len, 1);
        var b = RandomMatrix(len, q, 2);
        AssertClose(NaiveMultiply(a, b), LinearAlgebra.Multiply(a, b), 1e-10);
        var x = RandomMatrix(len, p, 3);
        AssertClose(NaiveMultiply(x.Transpose(), x), LinearAlgebra.FeatureGram(x), 1e-10);
        AssertClose(NaiveMultiply(a, a.Transpose()), LinearAlgebra.SampleGram(a), 1e-10);
        var y = RandomMatrix(len, q, 4);
        AssertClose(NaiveMultiply(x.Transpose(), y), LinearAlgebra.TransposeMultiply(x, y), 1e-10);
    }

    [Fact]
    public void CovarianceOfAKnownSample()
    {
        // x = [1,2,3,4], y = [3,3,7,7]: var x = 5/3, cov = (3+1+1+3)/3 = 8/3, var y = 16/3
        var m = DenseMatrix.FromRows(new[] { new[] { 1.0, 3 }, new[] { 2.0, 3 }, new[] { 3.0, 7 }, new[] { 4.0, 7 } });
        var c = LinearAlgebra.Covariance(m);
        Assert.Equal(5.0 / 3, c[0, 0], 12);
        Assert.Equal(8.0 / 3, c[0, 1], 12);
        Assert.Equal(8.0 / 3, c[1, 0], 12);
        Assert.Equal(16.0 / 3, c[1, 1], 12);
        Assert.Throws<MspgtException>(() => LinearAlgebra.Covariance(new DenseMatrix(1, 2)));
    }

    [Fact]
    public void CholeskySolvesAndGivesTheLogDeterminant()
    {
        var b = RandomMatrix(30, 12, 5);
        var a = LinearAlgebra.FeatureGram(b);   // SPD
        for (int i = 0; i < 12; i++) a[i, i] += 0.1;
        var l = LinearAlgebra.Cholesky(a);
        AssertClose(a, LinearAlgebra.MultiplyTransposed(l, l), 1e-10);
        var rhs = Enumerable.Range(0, 12).Select(i => (double)i - 4).ToArray();
        var x = LinearAlgebra.CholeskySolve(l, rhs);
        var back = LinearAlgebra.Multiply(a, new DenseMatrix(12, 1, x));
        for (int i = 0; i < 12; i++) Assert.Equal(rhs[i], back.Data[i], 9);
        // log det = Σ log eigenvalues
        double viaEigen = LinearAlgebra.SymmetricEigenvalues(a).Sum(Math.Log);
        Assert.Equal(viaEigen, LinearAlgebra.LogDeterminant(a), 9);
        // diag(2, 3) → log 6
        var d = DenseMatrix.FromRows(new[] { new[] { 2.0, 0 }, new[] { 0.0, 3 } });
        Assert.Equal(Math.Log(6), LinearAlgebra.LogDeterminant(d), 14);
        var notPd = DenseMatrix.FromRows(new[] { new[] { 1.0, 2 }, new[] { 2.0, 1 } });
        Assert.Throws<MspgtException>(() => LinearAlgebra.Cholesky(notPd));
    }

    [Theory]
    [InlineData(170, 896)]   // a document's sample Gram at the 0.5B shape: rows and columns not multiples of 4, two chunks
    [InlineData(37, 1030)]   // a scalar tail inside each chunk
    [InlineData(6, 5)]
    public void WideTilesGiveTheBitsOfNarrowOnes(int rows, int cols)
    {
        var x = RandomMatrix(rows, cols, 21);
        var y = RandomMatrix(rows + 3, cols, 22);
        DenseMatrix[] Products() => [LinearAlgebra.SampleGram(x), LinearAlgebra.MultiplyTransposed(x, y), LinearAlgebra.FeatureGram(x), LinearAlgebra.TransposeMultiply(x, RandomMatrix(rows, 7, 23))];
        bool was = LinearAlgebra.WideTiles;
        try
        {
            LinearAlgebra.WideTiles = true;
            var wide = Products();
            LinearAlgebra.WideTiles = false;
            var narrow = Products();
            for (int k = 0; k < wide.Length; k++) Assert.Equal(narrow[k].Data, wide[k].Data);
        }
        finally { LinearAlgebra.WideTiles = was; }
    }

    [Theory]
    [InlineData(100, 16, true)]    // a tail panel of 4 rows, an odd column count from each panel's diagonal
    [InlineData(1000, 20, true)]   // bands of 1-2 panels over 1,000 columns: split into column chunks as well
    [InlineData(1000, 20, false)]
    [InlineData(77, 1030, true)]   // two chunks of the sum, a scalar tail in each
    public void GramBandsHoldTheWholeGramsEntriesBitForBit(int n, int d, bool wide)
    {
        var x = RandomMatrix(n, d, n + d);
        bool was = LinearAlgebra.WideTiles;
        try
        {
            LinearAlgebra.WideTiles = wide;
            var whole = LinearAlgebra.SampleGram(x);
            int last = (n - 1) / 32 * 32;   // the last panel alone
            foreach (var (r0, r1) in new[] { (0, n), (0, 32), (32, 96), (64, n), (last, n) })
            {
                if (r1 > n || r0 >= r1) continue;
                int q = n - r0;
                var band = Enumerable.Repeat(double.NaN, (r1 - r0) * q + 5).ToArray();   // dirty, and longer than needed
                LinearAlgebra.SampleGramBand(x, r0, r1, band);
                for (int i = r0; i < r1; i++)
                    for (int j = i; j < n; j++)
                        Assert.Equal(BitConverter.DoubleToInt64Bits(whole[i, j]), BitConverter.DoubleToInt64Bits(band[(i - r0) * q + j - r0]));
            }
        }
        finally { LinearAlgebra.WideTiles = was; }
        Assert.Throws<ArgumentException>(() => LinearAlgebra.SampleGramBand(x, 16, n, new double[n * n]));   // not a panel's first row
        Assert.Throws<ArgumentException>(() => LinearAlgebra.SampleGramBand(x, 0, 40, new double[n * n]));   // ends inside a panel
        Assert.Throws<ArgumentException>(() => LinearAlgebra.SampleGramBand(x, 0, 32, new double[10]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(50)]
    public void ManyRightHandSidesAreSolvedAsEachAlone(int columns)
    {
        // The ridge probe's shape: a 256 × 256 normal matrix, 7-50 classes. Bit for bit what the one-column solve
        // gives each column (the probes' accuracies do not move), and a true solution.
        var x = RandomMatrix(300, 256, 11);
        var a = LinearAlgebra.FeatureGram(x);
        for (int i = 0; i < 256; i++) a[i, i] += 1.0;
        var l = LinearAlgebra.Cholesky(a);
        var b = RandomMatrix(256, columns, 12);
        var solved = LinearAlgebra.CholeskySolve(l, b);
        for (int c = 0; c < columns; c++)
        {
            var one = LinearAlgebra.CholeskySolve(l, Enumerable.Range(0, 256).Select(i => b[i, c]).ToArray());
            for (int i = 0; i < 256; i++) Assert.Equal(BitConverter.DoubleToInt64Bits(one[i]), BitConverter.DoubleToInt64Bits(solved[i, c]));
        }
        AssertClose(b, LinearAlgebra.Multiply(a, solved), 1e-8);
        // The factor written over A itself: the same lower triangle and the same solution, bit for bit.
        var inPlace = LinearAlgebra.CholeskyInPlace(a.Clone());
        for (int i = 0; i < 256; i++)
            for (int j = 0; j <= i; j++) Assert.Equal(l[i, j], inPlace[i, j]);
        Assert.Equal(solved.Data, LinearAlgebra.CholeskySolve(inPlace, b).Data);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(131)]
    public void EigenDecompositionReconstructsTheMatrix(int n)
    {
        var a = RandomSymmetric(n, 10 + n);
        var eig = LinearAlgebra.SymmetricEigen(a);
        var v = eig.Vectors;
        // orthonormal
        AssertClose(DenseMatrix.Identity(n), LinearAlgebra.TransposeMultiply(v, v), 1e-10);
        // A v_j = λ_j v_j
        var av = LinearAlgebra.Multiply(a, v);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                Assert.True(Math.Abs(av[i, j] - eig.Values[j] * v[i, j]) < 1e-9 * Math.Max(1, Math.Abs(eig.Values[0])));
        for (int j = 1; j < n; j++) Assert.True(eig.Values[j] <= eig.Values[j - 1]);
        var valuesOnly = LinearAlgebra.SymmetricEigenvalues(a);
        for (int j = 0; j < n; j++) Assert.Equal(eig.Values[j], valuesOnly[j], 9);
        double trace = Enumerable.Range(0, n).Sum(i => a[i, i]);
        Assert.Equal(trace, eig.Values.Sum(), 9);
    }

    [Fact]
    public void EigenvaluesOfKnownMatrices()
    {
        // [[2,1],[1,2]] → 3, 1 ; diagonal with repeats ; zero matrix
        var a = DenseMatrix.FromRows(new[] { new[] { 2.0, 1 }, new[] { 1.0, 2 } });
        var eig = LinearAlgebra.SymmetricEigen(a);
        Assert.Equal(3, eig.Values[0], 12);
        Assert.Equal(1, eig.Values[1], 12);
        Assert.Equal(1 / Math.Sqrt(2), Math.Abs(eig.Vectors[0, 0]), 12);
        var diag = new DenseMatrix(6, 6);
        double[] ds = { 4, 1, 4, 0, -2, 1 };
        for (int i = 0; i < 6; i++) diag[i, i] = ds[i];
        Assert.Equal(ds.OrderByDescending(x => x).ToArray(), LinearAlgebra.SymmetricEigenvalues(diag));
        Assert.All(LinearAlgebra.SymmetricEigenvalues(new DenseMatrix(5, 5)), x => Assert.Equal(0, x));
        // Known spectrum: Q diag(λ) Qᵀ for a random orthogonal Q
        var q = LinearAlgebra.SymmetricEigen(RandomSymmetric(40, 3)).Vectors;
        var lam = Enumerable.Range(0, 40).Select(i => i < 10 ? 1.0 : 0.0).ToArray();   // repeated eigenvalues
        var ql = q.Clone();
        for (int i = 0; i < 40; i++) for (int j = 0; j < 40; j++) ql[i, j] *= lam[j];
        var m = LinearAlgebra.MultiplyTransposed(ql, q);
        var got = LinearAlgebra.SymmetricEigenvalues(m);
        for (int i = 0; i < 40; i++) Assert.Equal(lam[i], got[i], 10);
    }

    [Fact]
    public void NonFiniteInputIsRejected()
    {
        var a = DenseMatrix.Identity(3);
        a[1, 2] = double.NaN;
        Assert.Throws<MspgtException>(() => LinearAlgebra.SymmetricEigen(a));
        Assert.Throws<MspgtException>(() => DenseMatrix.FromFloats(new float[5], 2, 3));
    }

    [Theory]
    [InlineData(1300, 37, 21)]   // three slabs of samples, the last one short
    [InlineData(512, 16, 16)]    // exactly one
    [InlineData(3, 5, 2)]
    public void TransposeMultiplyBySlabsIsTheWholeTransposedProductBitForBit(int n, int p, int q)
    {
        var a = RandomMatrix(n, p, n + 1);
        var b = RandomMatrix(n, q, n + 2);
        static long[] Bits(DenseMatrix m) => m.Data.Select(BitConverter.DoubleToInt64Bits).ToArray();
        Assert.Equal(Bits(LinearAlgebra.MultiplyTransposed(a.Transpose(), b.Transpose())), Bits(LinearAlgebra.TransposeMultiply(a, b)));
        var at = a.Transpose();
        var gram = LinearAlgebra.FeatureGram(a);
        Assert.Equal(Bits(LinearAlgebra.MultiplyTransposed(at, at)), Bits(gram));
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) Assert.Equal(gram[i, j], gram[j, i]);
    }

    [Fact]
    public void CenteredTransposeIsCenterThenTransposeBitForBit()
    {
        var x = RandomMatrix(70, 9, 5);
        for (int k = 0; k < x.Data.Length; k++) x.Data[k] = x.Data[k] * 1e3 + 17;   // a mean far from 0
        var expected = LinearAlgebra.Center(x).Transpose().Data.Select(BitConverter.DoubleToInt64Bits);
        Assert.Equal(expected, LinearAlgebra.CenteredTranspose(x).Data.Select(BitConverter.DoubleToInt64Bits));
        var into = new double[x.Data.Length];
        Assert.Same(into, LinearAlgebra.CenteredTranspose(x, into).Data);
        Assert.Equal(expected, into.Select(BitConverter.DoubleToInt64Bits));
    }
}
