namespace Mspgt.Tests.Layering;

/// <summary>
/// The house's layers (README, "Architecture"): data flows one way, and a type may use only types of its own area or
/// of areas below it. Areas on the same level (Signals and Interventions; Experiments and Training) are siblings
/// and may not use each other. Every type of the library must belong to an area.
/// </summary>
public class LayeringTests
{
    /// <summary>Namespace prefix → level. The first matching prefix wins, so sub-namespaces follow their area.</summary>
    public static readonly (string Area, int Level)[] Layers =
    [
        ("Mspgt.Files", 1),
        ("Mspgt.Checkpoints", 2),
        ("Mspgt.Numerics", 3),
        ("Mspgt.Tokenization", 4),
        ("Mspgt.Models", 5), // includes Mspgt.Models.Gpu: the device forward needs config, weights and hooks
        ("Mspgt.Loading", 6),
        ("Mspgt.Corpora", 7),
        ("Mspgt.Signals", 8),
        ("Mspgt.Interventions", 8),
        ("Mspgt.Scales", 9),
        ("Mspgt.Experiments", 10),
        ("Mspgt.Training", 10),
        ("Mspgt.Reporting", 11),
        ("Mspgt", 0), // the root: MspgtException, ProgramInfo
    ];

    public static (string Area, int Level)? AreaOf(string? ns)
    {
        if (ns is null) return null;
        foreach (var (area, level) in Layers)
            if (ns == area || ns.StartsWith(area + ".", StringComparison.Ordinal)) return (area, level);
        return null;
    }

    [Fact]
    public void NoTypeUsesAnAreaAboveOrBesideIt()
    {
        var assembly = typeof(MspgtException).Assembly;
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes().Where(t => t.DeclaringType is null))
        {
            if (type.Namespace is null || type.Name.StartsWith('<')) continue; // compiler-generated helpers
            var from = AreaOf(type.Namespace) ?? throw new Xunit.Sdk.XunitException($"{type.FullName} is in no area");
            foreach (var used in TypeReferences.Of(type))
            {
                if (used.Assembly != assembly) continue;
                var owner = TypeReferences.Owner(used);
                if (owner.Namespace is null || owner.Name.StartsWith('<')) continue;
                var to = AreaOf(owner.Namespace);
                if (to is null || to.Value.Area == from.Area) continue;
                if (to.Value.Level >= from.Level)
                    violations.Add($"{from.Area} → {to.Value.Area}: {type.FullName} uses {owner.FullName}");
            }
        }
        Assert.True(violations.Count == 0, $"{violations.Count} dependencies run up or sideways:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void TheScannerSeesUsesInsideMethodBodies()
    {
        // A type that only constructs another inside a method body (no field, no signature) must still count.
        var refs = TypeReferences.Of(typeof(ScannerProbe));
        Assert.Contains(typeof(System.Text.StringBuilder), refs);
        Assert.Contains(typeof(MspgtException), refs);
    }

    private static class ScannerProbe
    {
        public static int Run()
        {
            try { return new System.Text.StringBuilder("x").Length; }
            catch (InvalidOperationException) { throw new MspgtException("probe", "never"); }
        }
    }
}
