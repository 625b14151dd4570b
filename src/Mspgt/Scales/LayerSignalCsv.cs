using System.Globalization;

namespace Mspgt.Scales;

/// <summary>
/// Layer × signal data read from CSV. <see cref="Values"/> is L × S (for the long format: the mean over documents);
/// <see cref="PerDocument"/> is D × L × S when the file has documents, else null.
/// </summary>
public sealed record LayerSignalTable(string Source, string[] Signals, double[,] Values, string[]? Documents, double[,,]? PerDocument)
{
    public int NLayers => Values.GetLength(0);
}

/// <summary>
/// Reads the two CSV layouts of <c>mspgt boundaries</c>:
/// <list type="bullet">
/// <item>wide: a header of signal names, then one row per layer; an optional first column named <c>layer</c> holds
/// the layer numbers (0..L−1, any order, each once), otherwise rows are layers 0, 1, … in order;</item>
/// <item>long: the header <c>document,layer,signal,value</c>, one row per value; every document must have every
/// (layer, signal) once; layers are 0..L−1; documents and signals keep their order of first appearance.</item>
/// </list>
/// Fields are comma-separated, may be double-quoted ("" escapes a quote), surrounding spaces are trimmed; numbers use
/// the invariant culture; blank lines are skipped. Every problem throws <see cref="MspgtException"/> naming the file
/// and, where there is one, the line.
/// </summary>
public static class LayerSignalCsv
{
    public static readonly string[] LongHeader = ["document", "layer", "signal", "value"];

    public static LayerSignalTable Read(string path)
    {
        if (!File.Exists(path)) throw new MspgtException(path, "file not found");
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (IOException e) { throw new MspgtException(path, $"cannot read: {e.Message}"); }
        catch (UnauthorizedAccessException e) { throw new MspgtException(path, $"cannot read: {e.Message}"); }
        return Parse(lines, path);
    }

    /// <summary>Parses CSV lines; <paramref name="source"/> names the input in errors.</summary>
    public static LayerSignalTable Parse(IReadOnlyList<string> lines, string source)
    {
        var rows = new List<(int Line, string[] Fields)>();
        for (int i = 0; i < lines.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            rows.Add((i + 1, SplitLine(lines[i], i + 1, source)));
        }
        if (rows.Count == 0) throw new MspgtException(source, "file is empty");
        var header = rows[0].Fields;
        bool isLong = header.Length == LongHeader.Length
            && header.Select((h, i) => string.Equals(h, LongHeader[i], StringComparison.OrdinalIgnoreCase)).All(x => x);
        return isLong ? ParseLong(rows, source) : ParseWide(rows, source);
    }

    private static LayerSignalTable ParseWide(List<(int Line, string[] Fields)> rows, string source)
    {
        var (headerLine, header) = rows[0];
        bool hasLayer = string.Equals(header[0], "layer", StringComparison.OrdinalIgnoreCase);
        var signals = header.Skip(hasLayer ? 1 : 0).ToArray();
        if (signals.Length == 0) throw new MspgtException(source, $"line {headerLine}: the header names no signals");
        CheckNames(signals, headerLine, source);
        int dataRows = rows.Count - 1;
        if (dataRows == 0) throw new MspgtException(source, $"line {headerLine}: header but no data rows");

        var layerOfRow = new int[dataRows];
        var lineOfLayer = new Dictionary<int, int>();
        var values = new double[dataRows, signals.Length];
        for (int r = 0; r < dataRows; r++)
        {
            var (line, fields) = rows[r + 1];
            if (fields.Length != header.Length)
                throw new MspgtException(source, $"line {line}: expected {header.Length} fields, found {fields.Length}");
            int offset = 0;
            if (hasLayer)
            {
                int layer = ParseLayer(fields[0], line, source);
                if (lineOfLayer.TryGetValue(layer, out int first))
                    throw new MspgtException(source, $"line {line}: layer {layer} appears again (first on line {first})");
                lineOfLayer[layer] = line;
                layerOfRow[r] = layer;
                offset = 1;
            }
            else layerOfRow[r] = r;
            for (int j = 0; j < signals.Length; j++)
                values[r, j] = ParseValue(fields[j + offset], line, signals[j], source);
        }
        int l = dataRows;
        if (l < BoundaryDetector.MinLayers)
            throw new MspgtException(source, $"line {rows[^1].Line}: only {l} layer row(s); at least {BoundaryDetector.MinLayers} are needed");
        if (hasLayer)
        {
            foreach (var (layer, line) in lineOfLayer)
                if (layer >= l)
                    throw new MspgtException(source, $"line {line}: layer {layer} is out of range; with {l} rows layers must be 0..{l - 1}");
        }
        var ordered = new double[l, signals.Length];
        for (int r = 0; r < l; r++)
            for (int j = 0; j < signals.Length; j++)
                ordered[layerOfRow[r], j] = values[r, j];
        return new LayerSignalTable(source, signals, ordered, null, null);
    }

    private static LayerSignalTable ParseLong(List<(int Line, string[] Fields)> rows, string source)
    {
        var docIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var sigIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var entries = new List<(int Doc, int Layer, int Sig, double Value, int Line)>();
        int maxLayer = -1;
        for (int r = 1; r < rows.Count; r++)
        {
            var (line, f) = rows[r];
            if (f.Length != LongHeader.Length)
                throw new MspgtException(source, $"line {line}: expected {LongHeader.Length} fields, found {f.Length}");
            if (f[0].Length == 0) throw new MspgtException(source, $"line {line}: empty document name");
            if (f[2].Length == 0) throw new MspgtException(source, $"line {line}: empty signal name");
            int layer = ParseLayer(f[1], line, source);
            double value = ParseValue(f[3], line, "value", source);
            if (!docIndex.TryGetValue(f[0], out int d)) docIndex[f[0]] = d = docIndex.Count;
            if (!sigIndex.TryGetValue(f[2], out int s)) sigIndex[f[2]] = s = sigIndex.Count;
            maxLayer = Math.Max(maxLayer, layer);
            entries.Add((d, layer, s, value, line));
        }
        if (entries.Count == 0) throw new MspgtException(source, $"line {rows[0].Line}: header but no data rows");
        int nd = docIndex.Count, nl = maxLayer + 1, ns = sigIndex.Count;
        var documents = docIndex.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray();
        var signals = sigIndex.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray();

        var data = new double[nd, nl, ns];
        var lineOf = new int[nd, nl, ns];
        foreach (var (d, layer, s, value, line) in entries)
        {
            if (lineOf[d, layer, s] != 0)
                throw new MspgtException(source, $"line {line}: duplicate value for document '{documents[d]}', layer {layer}, signal '{signals[s]}' (first on line {lineOf[d, layer, s]})");
            lineOf[d, layer, s] = line;
            data[d, layer, s] = value;
        }
        if (nl < BoundaryDetector.MinLayers)
            throw new MspgtException(source, $"line {rows[^1].Line}: only {nl} layer(s) (0..{nl - 1}); at least {BoundaryDetector.MinLayers} are needed");
        for (int d = 0; d < nd; d++)
            for (int layer = 0; layer < nl; layer++)
                for (int s = 0; s < ns; s++)
                    if (lineOf[d, layer, s] == 0)
                        throw new MspgtException(source, $"document '{documents[d]}' has no value for layer {layer}, signal '{signals[s]}' (layers must run 0..{nl - 1}, every document with every signal)");
        var mean = new double[nl, ns];
        for (int d = 0; d < nd; d++)
            for (int layer = 0; layer < nl; layer++)
                for (int s = 0; s < ns; s++) mean[layer, s] += data[d, layer, s] / nd;
        return new LayerSignalTable(source, signals, mean, documents, data);
    }

    private static void CheckNames(string[] signals, int line, string source)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in signals)
        {
            if (name.Length == 0) throw new MspgtException(source, $"line {line}: empty signal name in the header");
            if (!seen.Add(name)) throw new MspgtException(source, $"line {line}: signal '{name}' appears twice in the header");
        }
    }

    private static int ParseLayer(string text, int line, string source)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int layer) || layer < 0)
            throw new MspgtException(source, $"line {line}: layer '{text}' is not an integer >= 0");
        return layer;
    }

    private static double ParseValue(string text, int line, string column, string source)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            throw new MspgtException(source, $"line {line}, column '{column}': '{text}' is not a number");
        if (!double.IsFinite(v))
            throw new MspgtException(source, $"line {line}, column '{column}': '{text}' is not a finite number");
        return v;
    }

    /// <summary>Splits one CSV line (no embedded newlines); quoted fields may hold commas and "" for a quote.</summary>
    internal static string[] SplitLine(string line, int lineNumber, string source)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        int i = 0;
        while (true)
        {
            current.Clear();
            while (i < line.Length && line[i] is ' ' or '\t') i++;
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length) throw new MspgtException(source, $"line {lineNumber}: unterminated quoted field");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    current.Append(line[i++]);
                }
                while (i < line.Length && line[i] is ' ' or '\t') i++;
                if (i < line.Length && line[i] != ',')
                    throw new MspgtException(source, $"line {lineNumber}: unexpected text after a quoted field");
                fields.Add(current.ToString());
            }
            else
            {
                while (i < line.Length && line[i] != ',') current.Append(line[i++]);
                fields.Add(current.ToString().Trim());
            }
            if (i >= line.Length) break;
            i++; // the comma
        }
        return fields.ToArray();
    }
}
