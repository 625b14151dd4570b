using System.Text.Json;
using Mspgt.Reporting;
using Mspgt.Files;

namespace Mspgt.Training;

/// <summary>What data a run trained on (stored in training.json; a resume must see the same data).</summary>
public sealed record DataRecord(string Description, string Sha256, int TrainTokens, int ValidationTokens, int TrainDocuments, int ValidationDocuments);

/// <summary>The sidecar training.json of a checkpoint: where training stood when the weights were saved.</summary>
public sealed record TrainingRecord
{
    public string ModelType { get; init; } = "";
    /// <summary>Optimizer updates applied to these weights.</summary>
    public long Step { get; init; }
    public int Steps { get; init; }
    /// <summary>Training tokens (predicted positions) seen so far.</summary>
    public long Tokens { get; init; }
    /// <summary>Mean training loss of the last step (nats/token); null at step 0.</summary>
    public double? TrainLoss { get; init; }
    /// <summary>Latest validation loss (nats/token), or null if none was computed yet.</summary>
    public double? ValLoss { get; init; }
    public long? ValLossStep { get; init; }
    public double Lr { get; init; }
    public double? GradNorm { get; init; }
    public int Seed { get; init; }
    public long Parameters { get; init; }
    public double WallSeconds { get; init; }
    public int GradientGroups { get; init; } = BatchGradient.MaxGroups;
    public string Tokenizer { get; init; } = "";
    public required TrainSettings Settings { get; init; }
    public required DataRecord Data { get; init; }

    public string ToJson() => JsonOutput.Serialize(this, "training.json");

    public static TrainingRecord Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingRecord>(RegularFile.ReadAllText(path), JsonOutput.Options)
                   ?? throw new MspgtException(path, "empty training record");
        }
        catch (JsonException e) { throw new MspgtException(path, $"invalid training.json: {e.Message}"); }
    }
}
