namespace Mspgt.Experiments.Predictions;

/// <summary>
/// The predictions of MSPGT a study tests, P1–P7, each one class with its threshold and null fixed before the data.
/// Random-weight controls never enter a prediction as subjects (P1 uses them as its identifiability check); where
/// several models share a <see cref="StudyModelSpec.Base"/> only the first counts in the family comparisons. All
/// resampling is seeded per prediction: the same inputs and seed give the same numbers, in any order.
/// </summary>
public static class StudyPredictions
{
    public const int DefaultResamples = 2000;

    public static readonly IReadOnlyList<IPrediction> All =
    [
        new P1TwoBoundaries(), new P2BoundaryStability(), new P3FamilyBrittleness(), new P4Dissociation(),
        new P5PrecisionEquivalence(), new P6Settling(), new P7DepthScaling(),
    ];

    public static IReadOnlyList<Prediction> Evaluate(IReadOnlyList<PredictionInput> models, int seed, int resamples = DefaultResamples)
    {
        var context = new PredictionContext(models, seed, resamples);
        return All.Select(p => p.Evaluate(context)).ToList();
    }
}
