using Mspgt.Reporting;
using Parquet;
using Parquet.Schema;
using Mspgt.Files;
using Mspgt.Interventions;
using Mspgt.Signals;

namespace Mspgt.Tests.Reporting;

public class ParquetTableTests
{
    private static string TempPath(string name) =>
        Path.Combine(Directory.CreateTempSubdirectory("mspgt-parquet").FullName, name);

    [Fact]
    public async Task SignalsRoundTripThroughParquetNet()
    {
        var rows = new List<SignalRow>();
        for (int d = 0; d < 3; d++)
            for (int l = 0; l < 5; l++)
            {
                rows.Add(new SignalRow("toy-llama", d, l, "attention_entropy", Math.Sqrt(d + 1) * l - 0.1));
                rows.Add(new SignalRow("toy-llama", d, l, "cka", 1.0 / (l + 3)));
            }
        string path = TempPath(SignalTable.FileName);
        SignalTable.Write(path, rows);

        // Read back with Parquet.Net directly, independently of ParquetTable.Read.
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.GetDataFields();
        Assert.Equal(["model", "document", "layer", "signal", "value"], fields.Select(f => f.Name));
        Assert.Equal(1, reader.RowGroupCount);
        var rg = reader.OpenRowGroupReader(0);
        Assert.Equal(rows.Count, rg.RowCount);
        var models = new string?[rows.Count];
        var docs = new int[rows.Count];
        var signals = new string?[rows.Count];
        var values = new double[rows.Count];
        await rg.ReadAsync(fields[0], models.AsMemory());
        await rg.ReadAsync<int>(fields[1], docs.AsMemory());
        await rg.ReadAsync(fields[3], signals.AsMemory());
        await rg.ReadAsync<double>(fields[4], values.AsMemory());
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i].Model, models[i]);
            Assert.Equal(rows[i].Document, docs[i]);
            Assert.Equal(rows[i].Signal, signals[i]);
            Assert.Equal(BitConverter.DoubleToInt64Bits(rows[i].Value), BitConverter.DoubleToInt64Bits(values[i]));
        }

        Assert.Equal(rows, SignalTable.Read(path));
    }

    [Fact]
    public async Task InterventionsKeepNullsAndValues()
    {
        InterventionRow[] rows =
        [
            new("toy-qwen", 0, 0, "local", "ablate_mean", "attn", 1.0, "kl_next_token", 0.125, null, null),
            new("toy-qwen", 0, 1, "global", "scale", "mlp", 0.5, "lexical_diversity", -0.02, 0.61, 0.59),
            new("toy-qwen", 7, 2, "random", "scale", "resid", 2.0, "length", 3.0, 41.0, null),
        ];
        string path = TempPath(InterventionTable.FileName);
        InterventionTable.Write(path, rows);
        var schema = await ParquetReader.ReadSchemaAsync(path);
        Assert.Equal(11, schema.GetDataFields().Length);
        Assert.True(schema.GetDataFields().Single(f => f.Name == "clean").IsNullable);
        Assert.Equal(rows, InterventionTable.Read(path));
    }

    [Fact]
    public async Task GenericTableSplitsRowGroupsAndReadsBack()
    {
        int n = 2500;
        var table = new ParquetTable()
            .AddStrings("model", Enumerable.Range(0, n).Select(i => $"m{i % 4}").ToArray())
            .AddStrings("family", Enumerable.Range(0, n).Select(i => i % 2 == 0 ? "llama" : "qwen").ToArray())
            .AddInts("size_b", Enumerable.Range(0, n).Select(i => 1 + i % 4).ToArray())
            .AddDoubles("boundary_1", Enumerable.Range(0, n).Select(i => i / 7.0).ToArray())
            .AddNullableDoubles("ci_low", Enumerable.Range(0, n).Select(i => i % 3 == 0 ? (double?)null : -i * 0.5).ToArray());
        string path = TempPath("study.parquet");
        table.Write(path, rowGroupSize: 1000);
        var back = ParquetTable.Read(path);
        Assert.Equal(n, back.RowCount);
        Assert.Equal(table.ColumnNames, back.ColumnNames);
        Assert.Equal(table.Strings("model"), back.Strings("model"));
        Assert.Equal(table.Ints("size_b"), back.Ints("size_b"));
        Assert.Equal(table.Doubles("boundary_1"), back.Doubles("boundary_1"));
        Assert.Equal(table.NullableDoubles("ci_low"), back.NullableDoubles("ci_low"));
        Assert.Null(back.NullableDoubles("ci_low")[3]);
        Assert.Equal(-2.0, back.NullableDoubles("ci_low")[4]);
        await using var reader = await ParquetReader.CreateAsync(path);
        Assert.Equal(3, reader.RowGroupCount);
    }

    [Fact]
    public void EmptyTableWritesSchemaOnly()
    {
        string path = TempPath("empty.parquet");
        SignalTable.Write(path, []);
        var back = ParquetTable.Read(path);
        Assert.Equal(0, back.RowCount);
        Assert.Equal(5, back.ColumnNames.Count);
    }

    [Fact]
    public void BadInputThrowsMspgtExceptionAndWritesNothing()
    {
        Assert.Throws<MspgtException>(() => new ParquetTable().AddInts("a", [1, 2]).AddInts("b", [1]));
        Assert.Throws<MspgtException>(() => new ParquetTable().AddInts("a", [1]).AddInts("a", [2]));
        Assert.Throws<MspgtException>(() => new ParquetTable().AddStrings("s", [null!]));
        var nan = Assert.Throws<MspgtException>(() => new ParquetTable().AddDoubles("value", [1, double.NaN]));
        Assert.Contains("row 1", nan.Message);
        Assert.Throws<MspgtException>(() => new ParquetTable().AddNullableDoubles("v", [null, double.PositiveInfinity]));
        Assert.Throws<MspgtException>(() => SignalTable.Write(TempPath("x.parquet"), [new("m", 0, 0, "s", double.NaN)]));
        Assert.Throws<MspgtException>(() => new ParquetTable().Write(TempPath("none.parquet")));
        Assert.Throws<MspgtException>(() => new ParquetTable().AddInts("a", [1]).Ints("b"));
        Assert.Throws<MspgtException>(() => new ParquetTable().AddInts("a", [1]).Doubles("a"));
    }

    [Fact]
    public void MissingOrTruncatedFileThrowsMspgtException()
    {
        string path = TempPath("signals.parquet");
        Assert.Throws<MspgtException>(() => ParquetTable.Read(path));
        SignalTable.Write(path, [new("m", 0, 0, "s", 1.5), new("m", 0, 1, "s", 2.5)]);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var ex = Assert.Throws<MspgtException>(() => ParquetTable.Read(path));
        Assert.Equal(path, ex.Source);
        File.WriteAllText(path, "not parquet at all");
        Assert.Throws<MspgtException>(() => ParquetTable.Read(path));
    }

    [Fact]
    public async Task UnsupportedColumnTypeIsReported()
    {
        string path = TempPath("other.parquet");
        var field = new DataField<long>("big");
        using (var fs = File.Create(path))
        {
            await using var w = await ParquetWriter.CreateAsync(new ParquetSchema(field), fs);
            using var rg = w.CreateRowGroup();
            await rg.WriteAsync<long>(field, new long[] { 1, 2 }.AsMemory());
        }
        var ex = Assert.Throws<MspgtException>(() => ParquetTable.Read(path));
        Assert.Contains("big", ex.Message);
    }
}
