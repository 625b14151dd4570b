using System.CommandLine;
using Mspgt.Cli;

// `mspgt`: thin command-line front end. Each command lives in Commands/ and only parses and prints;
// the work is done by the Mspgt library.
var root = new RootCommand("mspgt: find and test multi-scale structure (Local / Intermediate / Global) in Llama- and Qwen-family models");
foreach (var command in CommandRegistry.All())
    root.Subcommands.Add(command);
return CliRunner.Run(root, args);
