using System.Text.Json.Nodes;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Workers;

/// <summary>
/// Runs the real state machine definition in aws-local-stepfunctions (<c>infra/checks/run-asl.mjs</c>) against a
/// step endpoint, one execution per name, all at once; every Wait and Retry pause lasts no time (the steps decide
/// how long to wait, and waiting less changes no outcome).
/// </summary>
public static class AslRun
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public static async Task<IReadOnlyList<AslExecution>> RunAsync(string endpoint, Guid operationId, IReadOnlyList<string> executionNames)
    {
        RepositoryPaths.CheckModule("aws-local-stepfunctions", "package.json");
        List<string> arguments =
        [
            Path.Combine(RepositoryPaths.Checks, "run-asl.mjs"),
            "--definition", RepositoryPaths.StateMachine,
            "--endpoint", endpoint,
            "--operation-id", operationId.ToString(),
            "--wait-ms", "0",
        ];
        foreach (var name in executionNames)
        {
            arguments.AddRange(["--execution", name]);
        }

        var (exitCode, stdout, stderr) = await NodeCommand.RunAsync(Timeout, [.. arguments]);
        Assert.True(exitCode == 0, $"run-asl.mjs exited {exitCode}: {stderr}");
        return JsonNode.Parse(stdout)!["executions"]!.AsArray().Select(e => new AslExecution(
            (string)e!["execution_arn"]!,
            (string)e["status"]!,
            (string?)e["final_state"],
            e["steps"]!.AsArray().Select(s => ((string)s!["step"]!, (string)s["outcome"]!)).ToList())).ToList();
    }
}

/// <summary>One execution as the state machine saw it: its ARN, status, last state, and the (step, outcome) pairs in order.</summary>
public sealed record AslExecution(string ExecutionArn, string Status, string? FinalState, IReadOnlyList<(string Step, string Outcome)> Steps);
