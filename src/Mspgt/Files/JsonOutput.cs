using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mspgt.Files;

/// <summary>
/// The one set of System.Text.Json settings every mspgt output and input uses (results files, training.json,
/// zoo.json, study files, every --json on stdout): snake_case property names, indented, enums as snake_case strings,
/// and no NaN/Infinity ever (JSON has no such numbers; writing them as strings would let a broken statistic slip
/// silently into a results file, so it throws instead). <see cref="Compact"/> is the same settings on one line.
/// </summary>
public static class JsonOutput
{
    /// <summary>Shared, read-only options (snake_case, indented, finite numbers only).</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary><see cref="Options"/> without indentation: one value per line, for --json on stdout.</summary>
    public static JsonSerializerOptions Compact { get; } = CreateCompact();

    private static JsonSerializerOptions CreateCompact()
    {
        var o = new JsonSerializerOptions(Options) { WriteIndented = false };
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.Strict,
            // Output is for files, not for embedding in HTML; keep non-ASCII text (model names, tokens) readable.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            NewLine = "\n",
        };
        o.Converters.Add(new FiniteDoubleConverter());
        o.Converters.Add(new FiniteSingleConverter());
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    /// <summary>
    /// Serialises <paramref name="value"/> (indented, or on one line); a NaN or infinite number anywhere in it throws
    /// <see cref="MspgtException"/> naming <paramref name="source"/> and the JSON path of the bad value.
    /// </summary>
    public static string Serialize<T>(T value, string source = "json", bool indented = true)
    {
        try
        {
            return JsonSerializer.Serialize(value, indented ? Options : Compact);
        }
        catch (NonFiniteNumberException ex)
        {
            throw new MspgtException(source, $"{ex.Message} (at {LocateNonFinite(value) ?? "unknown path"})", ex);
        }
    }

    private static readonly Lazy<JsonSerializerOptions> Permissive = new(() =>
    {
        var o = new JsonSerializerOptions(Options) { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
        for (int i = o.Converters.Count - 1; i >= 0; i--)
            if (o.Converters[i] is FiniteDoubleConverter or FiniteSingleConverter) o.Converters.RemoveAt(i);
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    });

    /// <summary>
    /// System.Text.Json does not report where a converter failed while writing, so for the error message we
    /// serialise again with NaN/Infinity allowed (they come out as the strings "NaN", "Infinity", "-Infinity")
    /// and return the JSON path of the first such value.
    /// </summary>
    private static string? LocateNonFinite<T>(T value)
    {
        try
        {
            using var doc = JsonDocument.Parse(JsonSerializer.Serialize(value, Permissive.Value));
            return Find(doc.RootElement, "$");
        }
        catch (Exception)
        {
            return null; // only a diagnostic: never hide the original error behind a second one
        }

        static string? Find(JsonElement e, string path)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.String when e.GetString() is "NaN" or "Infinity" or "-Infinity":
                    return path;
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                        if (Find(p.Value, $"{path}.{p.Name}") is string hit) return hit;
                    return null;
                case JsonValueKind.Array:
                    int i = 0;
                    foreach (var item in e.EnumerateArray())
                        if (Find(item, $"{path}[{i++}]") is string hit) return hit;
                    return null;
                default:
                    return null;
            }
        }
    }

    /// <summary>Serialises <paramref name="value"/> and writes it atomically (UTF-8, no BOM, trailing newline).</summary>
    public static void WriteFile<T>(string path, T value)
    {
        string text = Serialize(value, path) + "\n";
        AtomicFile.WriteAllText(path, text);
    }

    /// <summary>Reads a JSON file written with these options; a missing or malformed file throws <see cref="MspgtException"/>.</summary>
    public static T ReadFile<T>(string path)
    {
        RegularFile.Require(path);
        try
        {
            using var fs = File.OpenRead(path);
            return JsonSerializer.Deserialize<T>(fs, Options)
                   ?? throw new MspgtException(path, "file holds JSON null");
        }
        catch (JsonException ex)
        {
            throw new MspgtException(path, Problem(ex), ex);
        }
    }

    /// <summary>
    /// What a reader's <see cref="JsonException"/> means to the person who wrote the file: "the file is empty", or
    /// "invalid JSON at line L, column C: REASON" with the reason's first sentence and none of the parser's internals
    /// (no "isFinalBlock", no type names, no JSON paths).
    /// </summary>
    public static string Problem(JsonException e)
    {
        string message = FirstLine(e.Message);
        if (message.Contains("does not contain any JSON tokens", StringComparison.Ordinal)) return "the file is empty (no JSON in it)";
        int stop = message.IndexOf(". ", StringComparison.Ordinal);
        string reason = (stop < 0 ? message.TrimEnd('.') : message[..stop]).Replace("'", "");
        reason = System.Text.RegularExpressions.Regex.Replace(reason, @"\bSystem\.[A-Za-z0-9_.`\[\],]+", "a different type");
        string at = e.LineNumber is long line ? $" at line {line + 1}" + (e.BytePositionInLine is long col ? $", column {col + 1}" : "") : "";
        return $"invalid JSON{at}: {reason}";
    }

    private static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }

    /// <summary>Thrown by the number converters; not a JsonException so the serializer passes it through untouched.</summary>
    private sealed class NonFiniteNumberException(string message) : InvalidOperationException(message)
    {
        public const string Prefix = "non-finite number";
    }

    private sealed class FiniteDoubleConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (!double.IsFinite(value))
                throw new NonFiniteNumberException($"{NonFiniteNumberException.Prefix} {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} cannot be written to JSON");
            // Utf8JsonWriter formats doubles as the shortest string that round-trips, so output is deterministic.
            writer.WriteNumberValue(value);
        }
    }

    private sealed class FiniteSingleConverter : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetSingle();

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            if (!float.IsFinite(value))
                throw new NonFiniteNumberException($"{NonFiniteNumberException.Prefix} {value.ToString(System.Globalization.CultureInfo.InvariantCulture)} cannot be written to JSON");
            writer.WriteNumberValue(value);
        }
    }
}
