using Mspgt.Files;
using Mspgt.Loading;
using System.CommandLine;
using System.Globalization;
using Mspgt.Tokenization;

namespace Mspgt.Cli.Commands;

/// <summary>`mspgt tokenize`: text → ids (or ids → text) with a tokenizer.json, llama2.c vocabulary or GGUF file.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json (or its folder), llama2.c vocabulary (.bin) or GGUF file", Required = true };
        var text = new Option<string?>("--text") { Description = "Text to encode" };
        var file = new Option<string?>("--file") { Description = "UTF-8 file whose text to encode" };
        var json = new Option<bool>("--json") { Description = "Print {\"ids\": [...], \"tokens\": [...]}" };
        var bos = new Option<bool>("--bos") { Description = "Put BOS first (when the vocabulary has one)" };
        var chat = new Option<bool>("--chat") { Description = "Wrap the text as one user message with the chat template of tokenizer_config.json beside the tokenizer" };
        var decode = new Option<string?>("--decode") { Description = "Decode comma-separated ids (e.g. 1,2,3) and print the text" };

        var cmd = new Command("tokenize", "Encode text to token ids, or decode ids to text");
        foreach (var o in new Option[] { tokenizer, text, file, json, bos, chat, decode }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var tok = TokenizerLoader.Load(parse.GetValue(tokenizer)!);
            string? ids = parse.GetValue(decode);
            string? t = parse.GetValue(text), f = parse.GetValue(file);
            if (ids is not null)
            {
                if (t is not null || f is not null) throw new MspgtException("--decode", "give either --decode or --text/--file, not both");
                Console.Out.WriteLine(tok.Decode(ParseIds(ids)));
                return 0;
            }
            if ((t is null) == (f is null)) throw new MspgtException("--text", "give exactly one of --text and --file (or --decode)");
            string input = t ?? ReadText(f!);
            if (parse.GetValue(chat)) input = ModelPrompts.ChatTemplateBeside(parse.GetValue(tokenizer)!).RenderUserPrompt(input);
            int[] encoded = tok.Encode(input, parse.GetValue(bos));
            if (parse.GetValue(json))
            {
                var payload = new { ids = encoded, tokens = encoded.Select(tok.TokenText).ToArray() };
                CliCommon.PrintJson(payload);
            }
            else Console.Out.WriteLine(string.Join(' ', encoded.Select(i => i.ToString(CultureInfo.InvariantCulture))));
            return 0;
        });
        return cmd;
    }

    private static int[] ParseIds(string list)
    {
        var parts = list.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                throw new MspgtException("--decode", $"\"{parts[i]}\" is not a token id (expected comma-separated non-negative integers)");
        return ids;
    }

    private static string ReadText(string path)
    {
        RegularFile.Require(path, "text file");
        try
        {
            return new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path)).TrimStart('\uFEFF');
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new MspgtException(path, "not valid UTF-8 text");
        }
    }
}
