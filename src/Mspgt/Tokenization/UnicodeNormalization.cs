using System.Globalization;
using System.Text;

namespace Mspgt.Tokenization;

/// <summary>The four Unicode normalization forms a tokenizer.json normalizer can ask for.</summary>
public enum UnicodeForm { Nfc, Nfd, Nfkc, Nfkd }

/// <summary>
/// Unicode normalization (UAX #15) from our own tables. The solution runs with InvariantGlobalization, under which
/// string.Normalize leaves non-ASCII text unchanged, so Qwen's NFC normalizer needs this implementation.
/// </summary>
public static class UnicodeNormalization
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private sealed class Tables
    {
        public readonly Dictionary<int, byte> Ccc = new();
        public readonly Dictionary<int, int[]> Canonical = new();
        public readonly Dictionary<int, int[]> Compatibility = new();
        public readonly Dictionary<long, int> Compose = new();
    }

    private static readonly Lazy<Tables> Data = new(Build);

    public static string Normalize(string text, UnicodeForm form)
    {
        if (IsStable(text)) return text;
        var t = Data.Value;
        bool compat = form is UnicodeForm.Nfkc or UnicodeForm.Nfkd;
        var cps = new List<int>(text.Length + 8);
        for (int i = 0; i < text.Length;)
        {
            int cp = NextCodePoint(text, ref i);
            Decompose(t, cp, compat, cps);
        }
        ReorderMarks(t, cps);
        if (form is UnicodeForm.Nfc or UnicodeForm.Nfkc) Compose(t, cps);
        var sb = new StringBuilder(cps.Count + 8);
        foreach (int cp in cps) sb.Append(char.ConvertFromUtf32(cp));
        return sb.ToString();
    }

    /// <summary>Every form leaves text below U+00A0 unchanged (U+00A0 itself has a compatibility mapping).</summary>
    private static bool IsStable(string text)
    {
        foreach (char c in text)
        {
            if (c < 0xA0) continue;
            return false;
        }
        return true;
    }

    private static int NextCodePoint(string s, ref int i)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            int cp = char.ConvertToUtf32(c, s[i + 1]);
            i += 2;
            return cp;
        }
        i++;
        return c; // a lone surrogate passes through unchanged
    }

    private static void Decompose(Tables t, int cp, bool compat, List<int> output)
    {
        if (cp >= SBase && cp < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        if (compat && t.Compatibility.TryGetValue(cp, out var k)) { output.AddRange(k); return; }
        if (t.Canonical.TryGetValue(cp, out var d)) { output.AddRange(d); return; }
        output.Add(cp);
    }

    private static int Ccc(Tables t, int cp) => t.Ccc.TryGetValue(cp, out byte c) ? c : 0;

    /// <summary>Canonical ordering: a stable sort of each run of non-starters by combining class.</summary>
    private static void ReorderMarks(Tables t, List<int> cps)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int c = Ccc(t, cps[i]);
            if (c == 0) continue;
            int j = i;
            int cp = cps[i];
            while (j > 0 && Ccc(t, cps[j - 1]) > c) { cps[j] = cps[j - 1]; j--; }
            cps[j] = cp;
        }
    }

    private static void Compose(Tables t, List<int> cps)
    {
        if (cps.Count == 0) return;
        int starter = -1, lastCcc = 0, write = 0;
        for (int read = 0; read < cps.Count; read++)
        {
            int cp = cps[read];
            int c = Ccc(t, cp);
            if (starter >= 0)
            {
                bool blocked = write - 1 != starter && (lastCcc == 0 || lastCcc >= c);
                if (!blocked && TryCompose(t, cps[starter], cp, out int composite))
                {
                    cps[starter] = composite;
                    continue;
                }
            }
            if (c == 0) { starter = write; lastCcc = 0; }
            else lastCcc = c;
            cps[write++] = cp;
        }
        cps.RemoveRange(write, cps.Count - write);
    }

    private static bool TryCompose(Tables t, int a, int b, out int composite)
    {
        if (a >= LBase && a < LBase + LCount && b >= VBase && b < VBase + VCount)
        {
            composite = SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
            return true;
        }
        if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && b > TBase && b < TBase + TCount)
        {
            composite = a + (b - TBase);
            return true;
        }
        return t.Compose.TryGetValue(((long)a << 32) | (uint)b, out composite);
    }

    private static Tables Build()
    {
        var t = new Tables();
        foreach (var entry in Entries(UnicodeNormalizationData.CombiningClasses))
        {
            int eq = entry.IndexOf('='), dash = entry.IndexOf('-');
            int first = Hex(entry[..dash]), last = Hex(entry[(dash + 1)..eq]);
            byte cls = byte.Parse(entry[(eq + 1)..], CultureInfo.InvariantCulture);
            for (int cp = first; cp <= last; cp++) t.Ccc[cp] = cls;
        }
        ReadMap(UnicodeNormalizationData.CanonicalDecompositions, t.Canonical);
        ReadMap(UnicodeNormalizationData.CompatibilityDecompositions, t.Compatibility);
        foreach (var entry in Entries(UnicodeNormalizationData.PrimaryComposites))
        {
            int eq = entry.IndexOf('='), sp = entry.IndexOf(' ');
            t.Compose[((long)Hex(entry[..sp]) << 32) | (uint)Hex(entry[(sp + 1)..eq])] = Hex(entry[(eq + 1)..]);
        }
        return t;
    }

    private static void ReadMap(string data, Dictionary<int, int[]> map)
    {
        foreach (var entry in Entries(data))
        {
            int eq = entry.IndexOf('=');
            map[Hex(entry[..eq])] = entry[(eq + 1)..].Split(' ').Select(Hex).ToArray();
        }
    }

    private static IEnumerable<string> Entries(string data) =>
        data.Split(';', StringSplitOptions.RemoveEmptyEntries);

    private static int Hex(string s) => int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
