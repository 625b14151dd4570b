using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Mspgt.Experiments.Predictions;

/// <summary>What a prediction's test concluded. In JSON: true, false, "not evaluable" or "not identifiable".</summary>
[JsonConverter(typeof(VerdictJsonConverter))]
public enum Verdict
{
    Supported,
    NotSupported,
    /// <summary>The models given cannot test the prediction (e.g. one model per family).</summary>
    NotEvaluable,
    /// <summary>The test also passes on random-weight controls, so passing says nothing about the models.</summary>
    NotIdentifiable,
}

/// <summary>
/// One prediction of the theory tested on a study's models, in the scipy.stats habit: the decision rule fixed before
/// the data (<see cref="Threshold"/>), the null it is tested against (<see cref="Null"/>), and the p-value or
/// interval it rests on. <see cref="Reason"/> says in words why the verdict is what it is.
/// </summary>
public sealed record Prediction(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("statement")] string Statement,
    [property: JsonPropertyName("supported"), JsonConverter(typeof(VerdictJsonConverter))] Verdict Supported,
    [property: JsonPropertyName("threshold")] string Threshold,
    [property: JsonPropertyName("null")] string Null,
    [property: JsonPropertyName("p_value")] double? PValue,
    [property: JsonPropertyName("interval")] double[]? Interval,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("numbers")] JsonObject Numbers);

/// <summary>One prediction: its id and statement, and the test that decides it.</summary>
public interface IPrediction
{
    string Id { get; }
    string Statement { get; }
    /// <summary>The decision rule, fixed before the data.</summary>
    string Threshold { get; }
    /// <summary>The null hypothesis the test is calibrated against.</summary>
    string Null { get; }
    Prediction Evaluate(PredictionContext context);
}

/// <summary>Reads and writes <see cref="Verdict"/> as the study.json contract has it.</summary>
public sealed class VerdictJsonConverter : JsonConverter<Verdict>
{
    public override Verdict Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.True => Verdict.Supported,
        JsonTokenType.False => Verdict.NotSupported,
        JsonTokenType.String when reader.GetString() == "not evaluable" => Verdict.NotEvaluable,
        JsonTokenType.String when reader.GetString() == "not identifiable" => Verdict.NotIdentifiable,
        _ => throw new JsonException("a verdict is true, false, \"not evaluable\" or \"not identifiable\""),
    };

    public override void Write(Utf8JsonWriter writer, Verdict value, JsonSerializerOptions options)
    {
        switch (value)
        {
            case Verdict.Supported: writer.WriteBooleanValue(true); break;
            case Verdict.NotSupported: writer.WriteBooleanValue(false); break;
            case Verdict.NotEvaluable: writer.WriteStringValue("not evaluable"); break;
            default: writer.WriteStringValue("not identifiable"); break;
        }
    }

    /// <summary>How a verdict reads in tables.</summary>
    public static string Text(Verdict v) => v switch
    {
        Verdict.Supported => "supported",
        Verdict.NotSupported => "not supported",
        Verdict.NotEvaluable => "not evaluable",
        _ => "not identifiable",
    };
}
