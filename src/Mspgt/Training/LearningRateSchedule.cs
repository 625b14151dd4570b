namespace Mspgt.Training;

/// <summary>
/// Linear warmup over the first <c>warmup</c> steps to the peak, then a cosine decay that reaches the floor
/// (lr_min = lr/10 by default) at the last step. Step indices are 0-based (step s is the (s+1)-th update).
/// </summary>
public sealed record LearningRateSchedule(double Peak, int Warmup, int TotalSteps, double Floor)
{
    public static LearningRateSchedule Create(double peak, int warmup, int totalSteps) => new(peak, warmup, totalSteps, peak / 10);

    public double At(int step)
    {
        if (step < Warmup) return Peak * (step + 1) / Warmup;
        int span = TotalSteps - 1 - Warmup;
        if (span <= 0) return Peak;
        double progress = Math.Clamp((double)(step - Warmup) / span, 0, 1);
        return Floor + 0.5 * (Peak - Floor) * (1 + Math.Cos(Math.PI * progress));
    }
}
