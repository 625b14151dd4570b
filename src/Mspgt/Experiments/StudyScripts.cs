using System.Text;

namespace Mspgt.Experiments;

/// <summary>What a cluster script needs besides the study: shards, resources, and how to call mspgt there.</summary>
/// <param name="Command">How a job calls mspgt (an executable, or "dotnet /path/mspgt.dll"); it must work on the nodes.</param>
/// <param name="ExtraArguments">Passed to every study call as given (e.g. "--device cuda").</param>
public sealed record ClusterSettings(int Shards, string Command, string? Partition = null, int GpusPerTask = 0, int CpusPerTask = 1,
    string? ExtraArguments = null, string? Image = null);

/// <summary>
/// Scripts that run a study as shards on a cluster and merge it: a bash script that submits a Slurm array (one
/// task per shard) and a merge job that starts after every shard succeeded, and a Kubernetes Indexed Job. Paths are
/// written absolute, since jobs start elsewhere; the study's output folder must be on a file system every node sees.
/// </summary>
public static class StudyScripts
{
    public static string Slurm(StudyDefinition def, ClusterSettings c)
    {
        Check(c);
        string study = Quote(Path.GetFullPath(def.StudyFile)), output = Quote(Path.GetFullPath(def.Output));
        string extra = string.IsNullOrWhiteSpace(c.ExtraArguments) ? "" : " " + c.ExtraArguments.Trim();
        var common = new StringBuilder();
        common.Append($" --cpus-per-task={c.CpusPerTask}");
        if (c.Partition is { Length: > 0 } p) common.Append($" --partition={Quote(p)}");
        var sb = new StringBuilder();
        sb.Append("#!/usr/bin/env bash\n");
        sb.Append($"# mspgt study {Path.GetFileName(def.StudyFile)} on Slurm: {c.Shards} shard(s) as one array job, then a merge job that\n");
        sb.Append("# runs only when every shard succeeded (afterok). A failed shard leaves nothing half-written: re-submit\n");
        sb.Append("# that one (sbatch --array=I with the shard line below), then the merge. Prints the two job ids.\n");
        sb.Append("set -euo pipefail\n");
        sb.Append($"MSPGT=${{MSPGT:-{Quote(c.Command)}}}\n");
        sb.Append($"STUDY={study}\nOUT={output}\n");
        sb.Append("export MSPGT STUDY OUT   # sbatch hands the submitting environment to the jobs\n");
        sb.Append("mkdir -p \"$OUT/slurm\"\n");
        // Each task uses the CPUs Slurm gives it: DOTNET_PROCESSOR_COUNT bounds every parallel loop in the process.
        string shard = "export DOTNET_PROCESSOR_COUNT=${SLURM_CPUS_PER_TASK:-1}; $MSPGT study \"$STUDY\" --out \"$OUT\" " +
                       $"--shard ${{SLURM_ARRAY_TASK_ID}}/{c.Shards}{extra}";
        sb.Append($"shards=$(sbatch --parsable --job-name=mspgt-shard --array=0-{c.Shards - 1}{common}");
        if (c.GpusPerTask > 0) sb.Append($" --gpus-per-task={c.GpusPerTask}");
        sb.Append($" --output=\"$OUT/slurm/shard-%a.out\" --wrap={Quote(shard)})\n");
        string merge = $"export DOTNET_PROCESSOR_COUNT=${{SLURM_CPUS_PER_TASK:-1}}; $MSPGT study \"$STUDY\" --out \"$OUT\" --merge-only --shards {c.Shards}{extra}";
        sb.Append($"merge=$(sbatch --parsable --job-name=mspgt-merge --dependency=afterok:${{shards%%;*}}{common}");
        sb.Append($" --output=\"$OUT/slurm/merge.out\" --wrap={Quote(merge)})\n");
        sb.Append("echo \"${shards%%;*}\"\necho \"${merge%%;*}\"\n");
        return sb.ToString();
    }

    /// <summary>A Kubernetes Indexed Job (one pod per shard, JOB_COMPLETION_INDEX → --shard) and a merge Job.
    /// Untested here: no cluster; the study and output paths must be mounted at the same place in every pod.</summary>
    public static string Kubernetes(StudyDefinition def, ClusterSettings c)
    {
        Check(c);
        string image = c.Image ?? "mspgt:latest";
        string study = Path.GetFullPath(def.StudyFile), output = Path.GetFullPath(def.Output);
        string extra = string.IsNullOrWhiteSpace(c.ExtraArguments) ? "" : " " + c.ExtraArguments.Trim();
        string name = "mspgt-" + new string(Path.GetFileNameWithoutExtension(def.StudyFile).ToLowerInvariant()
            .Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '-').ToArray()).Trim('-');
        string Resources() => $"          resources:\n            limits:\n              cpu: \"{c.CpusPerTask}\"" +
                              (c.GpusPerTask > 0 ? $"\n              nvidia.com/gpu: \"{c.GpusPerTask}\"" : "") + "\n";
        var sb = new StringBuilder();
        sb.Append($"# mspgt study on Kubernetes (untested here): an Indexed Job of {c.Shards} pod(s), then apply the merge Job\n");
        sb.Append("# when every pod has succeeded. Mount the study file and the output folder at the same paths in every pod.\n");
        sb.Append($"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}-shards\nspec:\n  completionMode: Indexed\n");
        sb.Append($"  completions: {c.Shards}\n  parallelism: {c.Shards}\n  backoffLimitPerIndex: 1\n  template:\n    spec:\n      restartPolicy: Never\n");
        sb.Append($"      containers:\n        - name: shard\n          image: {image}\n          command: [\"sh\", \"-c\"]\n");
        sb.Append($"          args: [\"DOTNET_PROCESSOR_COUNT={c.CpusPerTask} {c.Command} study '{study}' --out '{output}' --shard $JOB_COMPLETION_INDEX/{c.Shards}{extra}\"]\n");
        sb.Append(Resources());
        sb.Append($"---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}-merge\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n");
        sb.Append($"      containers:\n        - name: merge\n          image: {image}\n          command: [\"sh\", \"-c\"]\n");
        sb.Append($"          args: [\"{c.Command} study '{study}' --out '{output}' --merge-only --shards {c.Shards}{extra}\"]\n");
        sb.Append(Resources());
        return sb.ToString();
    }

    private static void Check(ClusterSettings c)
    {
        if (c.Shards < 1) throw MspgtException.ForSetting("shards", $"must be ≥ 1, got {c.Shards}");
        if (c.CpusPerTask < 1) throw MspgtException.ForSetting("cpus_per_task", $"must be ≥ 1, got {c.CpusPerTask}");
        if (c.GpusPerTask < 0) throw MspgtException.ForSetting("gpus_per_task", $"must be ≥ 0, got {c.GpusPerTask}");
    }

    /// <summary>Single-quoted for bash ('it'\''s').</summary>
    internal static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
