using Mspgt.Numerics;

namespace Mspgt.Tests.Numerics;

/// <summary>
/// <see cref="LinearAlgebra.SymmetricEigen(DenseMatrix, int)"/> computes only the leading eigenvectors, by inverse
/// iteration on the tridiagonal matrix. Its eigenvalues must be the full decomposition's bit for bit and its vectors
/// eigenvectors in the full decomposition's eigenspaces (<see cref="InverseIterationTests.AssertLeadingEigenvectors"/>)
/// — on random spectra, on exactly repeated eigenvalues (where any basis of the eigenspace is an answer), on clusters
/// 1e-12 apart and on a document's Gram matrix — and independent of the thread count.
/// </summary>
[Collection(ParallelismCollection.Name)]
public class LeadingEigenTests
{
    /// <summary>Q diag(λ) Qᵀ with a random orthogonal Q (the eigenvectors of a random symmetric matrix).</summary>
    private static DenseMatrix WithSpectrum(double[] lambda, int seed)
    {
        int n = lambda.Length;
        var q = LinearAlgebra.SymmetricEigen(LinearAlgebraTests.RandomSymmetric(n, seed)).Vectors;
        var ql = q.Clone();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) ql[i, j] *= lambda[j];
        return LinearAlgebra.MultiplyTransposed(ql, q);
    }

    public static TheoryData<string> Spectra => new() { "random", "repeated", "clustered", "diagonal", "gram" };

    private static DenseMatrix Matrix(string kind) => kind switch
    {
        "random" => LinearAlgebraTests.RandomSymmetric(131, 5),
        // ten eigenvalues exactly 1, the rest 0: the top eigenspace has dimension 10
        "repeated" => WithSpectrum(Enumerable.Range(0, 140).Select(i => i < 10 ? 1.0 : 0.0).ToArray(), 6),
        // six eigenvalues 1e-12 apart at the top, then a spread spectrum
        "clustered" => WithSpectrum(Enumerable.Range(0, 150).Select(i => i < 6 ? 5 + 1e-12 * i : 4.0 / (i + 1)).ToArray(), 7),
        // already tridiagonal (diagonal): no Householder step, repeated values at the top
        "diagonal" => Diagonal([3, 1, 3, 0, -2, 3, 1, 2, 2, 0.5]),
        // a document's centred sample Gram matrix: 255 tokens of a 896-wide representation (rank 254 after centring)
        _ => CenteredGram.Of(LinearAlgebraTests.RandomMatrix(255, 896, 8)).Gram,
    };

    private static DenseMatrix Diagonal(double[] d)
    {
        var m = new DenseMatrix(d.Length, d.Length);
        for (int i = 0; i < d.Length; i++) m[i, i] = d[i];
        return m;
    }

    [Theory]
    [MemberData(nameof(Spectra))]
    public void LeadingEigenpairsAreTheFullDecompositions(string kind)
    {
        var a = Matrix(kind);
        foreach (int k in new[] { 1, 8, 16 }) InverseIterationTests.AssertLeadingEigenvectors(a, k);
        Assert.Empty(LinearAlgebra.SymmetricEigen(a, 0).Vectors.Data);
    }

    [Fact]
    public void LeadingEigenvectorsAreBitIdenticalWhateverTheThreadCount()
    {
        var a = Matrix("gram");
        var results = new List<double[]>();
        try
        {
            foreach (int threads in new[] { 1, 2, 5 })
            {
                Parallelism.Set(threads);
                results.Add(LinearAlgebra.SymmetricEigen(a, 16).Vectors.Data);
            }
        }
        finally { Parallelism.Set(null); }
        Assert.Equal(results[0], results[1]);
        Assert.Equal(results[0], results[2]);
    }

    [Fact]
    public void PrincipalComponentsUseTheLeadingVectorsOfTheSharedGram()
    {
        var x = LinearAlgebraTests.RandomMatrix(120, 300, 9);
        var g = CenteredGram.Of(x);
        var pca = PrincipalComponents.Fit(g, 8);
        Assert.Same(g.LeadingEigen(8), g.LeadingEigen(3));
        Assert.Equal(g.Eigenvalues, g.LeadingEigen(8).Values);
        // the directions are Xcᵀ u / √λ for the full decomposition's u too, to round-off and up to sign
        var full = g.Eigen;
        var xc = LinearAlgebra.Center(x);
        var u = full.Vectors.LeadingColumns(8);
        var v = LinearAlgebra.TransposeMultiply(xc, u);
        for (int c = 0; c < 8; c++)
        {
            double sign = Math.Sign(pca.Directions[0, c] * v[0, c]);
            for (int r = 0; r < 300; r++)
                Assert.True(Math.Abs(pca.Directions[r, c] - sign * v[r, c] / Math.Sqrt(full.Values[c])) < 1e-10);
        }
    }

    [Theory]
    [MemberData(nameof(Spectra))]
    public void AnotherDecompositionBeforeChangesNothing(string kind)
    {
        // Whatever a larger decomposition left in the shared scratch before, and on a fresh thread, the values and
        // vectors are the same bit for bit.
        var a = Matrix(kind);
        var first = LinearAlgebra.SymmetricEigen(a, 8);
        LinearAlgebra.SymmetricEigen(LinearAlgebraTests.RandomSymmetric(400, 11), 8);
        var after = LinearAlgebra.SymmetricEigen(a, 8);
        SymmetricEigen? fresh = null;
        var thread = new Thread(() => fresh = LinearAlgebra.SymmetricEigen(a, 8));
        thread.Start();
        thread.Join();
        foreach (var e in new[] { after, fresh! })
        {
            Assert.Equal(Bits(first.Values), Bits(e.Values));
            Assert.Equal(Bits(first.Vectors.Data), Bits(e.Vectors.Data));
        }
        static long[] Bits(double[] v) => v.Select(BitConverter.DoubleToInt64Bits).ToArray();
    }

    [Theory]
    [MemberData(nameof(Spectra))]
    public void AWorkingCopyLeftDirtyInThePoolChangesNothing(string kind)
    {
        // The decomposition works on a rented copy of its input. Hand it one that a previous user left full of NaN (the
        // pool gives this thread back the array it returned last): values and vectors must be those of a clean run, bit
        // for bit, so every value it reads was copied from the input first.
        var a = Matrix(kind);
        int n = a.Rows;
        var clean = LinearAlgebra.SymmetricEigen(a, 8);
        var cleanValues = LinearAlgebra.SymmetricEigenvalues(a);
        foreach (var call in new Func<DenseMatrix, object>[] { m => LinearAlgebra.SymmetricEigen(m, 8), m => LinearAlgebra.SymmetricEigenvalues(m) })
        {
            var dirty = System.Buffers.ArrayPool<double>.Shared.Rent(n * n);
            Array.Fill(dirty, double.NaN);
            System.Buffers.ArrayPool<double>.Shared.Return(dirty);
            switch (call(a))
            {
                case SymmetricEigen e:
                    Assert.Equal(Bits(clean.Values), Bits(e.Values));
                    Assert.Equal(Bits(clean.Vectors.Data), Bits(e.Vectors.Data));
                    break;
                case double[] values:
                    Assert.Equal(Bits(cleanValues), Bits(values));
                    break;
            }
        }
        static long[] Bits(double[] v) => v.Select(BitConverter.DoubleToInt64Bits).ToArray();
    }
}
