using Mspgt.Files;
using System.Globalization;
using System.Text.Json;

namespace Mspgt.Interventions;

/// <summary>A named, contiguous range of blocks, inclusive at both ends, 0-based.</summary>
public sealed record LayerSegment(string Name, int First, int Last)
{
    public int Width => Last - First + 1;

    /// <summary>The scale this segment stands for, when its name is one of the three scale names.</summary>
    public SegmentScale? Scale => LayerSegments.ScaleOf(Name);

    public bool Contains(int layer) => layer >= First && layer <= Last;

    public override string ToString() => First == Last ? $"{Name}={First}" : $"{Name}={First}-{Last}";
}

/// <summary>
/// The segments an intervention run targets: from <c>--segments local=0-1,intermediate=2-3,global=4-4</c>, from the
/// <c>segments</c> field of an <c>mspgt analyze</c> summary.json, or (neither given) an equal three-way split.
/// Every segment must lie inside the model, segments may not overlap and each scale name appears at most once.
/// </summary>
public static class LayerSegments
{
    public static IReadOnlyList<string> Names => ScaleNames.All;

    public static SegmentScale? ScaleOf(string name) => name switch
    {
        ScaleNames.Local => SegmentScale.Local,
        ScaleNames.Intermediate => SegmentScale.Intermediate,
        ScaleNames.Global => SegmentScale.Global,
        _ => null,
    };

    /// <summary>
    /// The segments of a run and where they came from: parsed from <paramref name="segments"/>, read from the analyze
    /// summary.json <paramref name="scales"/>, or, neither given, <see cref="EqualThirds"/>. Both given is an error.
    /// The source is the manifest's "segments_source", worded as `mspgt intervene` has always written it.
    /// </summary>
    public static (IReadOnlyList<LayerSegment> Segments, string Source) Select(string? segments, string? scales, int layers)
    {
        if (segments != null && scales != null) throw MspgtException.ForSetting("segments", "give segments or scales, not both");
        return segments != null ? (Parse(segments, layers), "--segments")
            : scales != null ? (FromSummary(scales, layers), $"--scales {scales}")
            : (EqualThirds(layers), "equal thirds (no --segments or --scales given)");
    }

    /// <summary>The three named segments of an analysis' K = 2 scales (summary.json "segments"), shallowest first.</summary>
    public static IReadOnlyList<LayerSegment> FromScales(IReadOnlyDictionary<string, int[]> scales) =>
        Names.Select(n => new LayerSegment(n, scales[n][0], scales[n][1])).OrderBy(x => x.First).ToList();

    /// <summary>Parses <c>name=a-b</c> (or <c>name=a</c> for one block) entries separated by commas; an error is
    /// one of the <c>segments</c> setting.</summary>
    public static IReadOnlyList<LayerSegment> Parse(string text, int layers)
    {
        if (string.IsNullOrWhiteSpace(text)) throw MspgtException.ForSetting("segments", "no segments given (expected e.g. local=0-1,intermediate=2-3,global=4-4)");
        var segments = new List<LayerSegment>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = raw.IndexOf('=');
            if (eq <= 0) throw MspgtException.ForSetting("segments", $"'{raw}' is not name=first-last (e.g. local=0-1)");
            string name = raw[..eq].Trim();
            string range = raw[(eq + 1)..].Trim();
            int dash = range.IndexOf('-', 1);
            string a = dash < 0 ? range : range[..dash].Trim(), b = dash < 0 ? range : range[(dash + 1)..].Trim();
            if (!int.TryParse(a, NumberStyles.Integer, CultureInfo.InvariantCulture, out int first)
                || !int.TryParse(b, NumberStyles.Integer, CultureInfo.InvariantCulture, out int last))
                throw MspgtException.ForSetting("segments", $"'{raw}': '{range}' is not a block range first-last of integers");
            segments.Add(new LayerSegment(name, first, last));
        }
        Validate(segments, layers);
        return segments;
    }

    /// <summary>
    /// Reads the <c>segments</c> ({"local":[a,b], ...}, inclusive) and <c>n_layers</c> fields of an
    /// <c>mspgt analyze</c> summary.json; nothing else in the file is used. n_layers must match the model.
    /// </summary>
    public static IReadOnlyList<LayerSegment> FromSummary(string path, int layers)
    {
        if (!File.Exists(path)) throw new MspgtException(path, "file not found");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(RegularFile.ReadAllText(path)); }
        catch (JsonException e) { throw new MspgtException(path, JsonOutput.Problem(e)); }
        catch (IOException e) { throw new MspgtException(path, $"cannot read: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new MspgtException(path, "expected a JSON object (an mspgt analyze summary.json)");
            if (!root.TryGetProperty("n_layers", out var nl) || nl.ValueKind != JsonValueKind.Number || !nl.TryGetInt32(out int nLayers))
                throw new MspgtException(path, "no integer \"n_layers\" field (is this an mspgt analyze summary.json?)");
            if (nLayers != layers)
                throw new MspgtException(path, $"summary is for a model with {nLayers} layers but this model has {layers}");
            if (!root.TryGetProperty("segments", out var segs) || segs.ValueKind != JsonValueKind.Object)
                throw new MspgtException(path, "no \"segments\" object (expected {\"local\":[a,b], \"intermediate\":[a,b], \"global\":[a,b]})");
            var segments = new List<LayerSegment>();
            foreach (var p in segs.EnumerateObject())
            {
                var v = p.Value;
                if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 2
                    || !v[0].TryGetInt32(out int a) || !v[1].TryGetInt32(out int b))
                    throw new MspgtException(path, $"segment \"{p.Name}\" is not a pair of integer block indices [first, last]");
                segments.Add(new LayerSegment(p.Name, a, b));
            }
            Validate(segments, layers, path);
            return segments;
        }
    }

    /// <summary>Three contiguous segments of near-equal width covering every block (the remainder goes to the
    /// shallower segments: 5 blocks → 0-1, 2-3, 4-4). A placeholder for when no detected scales are given.</summary>
    public static IReadOnlyList<LayerSegment> EqualThirds(int layers)
    {
        if (layers < 3) throw MspgtException.ForSetting("segments", $"the model has {layers} layer(s); three equal segments need at least 3: give the segments");
        var result = new List<LayerSegment>();
        int start = 0;
        for (int i = 0; i < 3; i++)
        {
            int width = layers / 3 + (i < layers % 3 ? 1 : 0);
            result.Add(new LayerSegment(Names[i], start, start + width - 1));
            start += width;
        }
        return result;
    }

    /// <summary>Known names, each at most once; blocks inside [0, layers); first ≤ last; no overlap. An error names
    /// <paramref name="file"/> when the segments were read from one, else the <c>segments</c> setting.</summary>
    public static void Validate(IReadOnlyList<LayerSegment> segments, int layers, string? file = null)
    {
        MspgtException Error(string message) => file is null ? MspgtException.ForSetting("segments", message) : new MspgtException(file, message);
        if (segments.Count == 0) throw Error("no segments given");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in segments)
        {
            if (ScaleOf(s.Name) is null)
                throw Error($"unknown segment name '{s.Name}' (expected {string.Join(", ", Names)})");
            if (!seen.Add(s.Name)) throw Error($"segment '{s.Name}' is given twice");
            if (s.First < 0 || s.Last >= layers)
                throw Error($"segment {s} is outside the model's blocks 0..{layers - 1}");
            if (s.First > s.Last) throw Error($"segment {s} ends before it starts");
        }
        var ordered = segments.OrderBy(s => s.First).ToList();
        for (int i = 1; i < ordered.Count; i++)
            if (ordered[i].First <= ordered[i - 1].Last)
                throw Error($"segments {ordered[i - 1]} and {ordered[i]} overlap");
    }
}
