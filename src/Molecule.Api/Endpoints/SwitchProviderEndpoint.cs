using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary>
/// <c>POST /workspaces/{id}/switch-provider</c>: move a workspace to another cloud. Validated and claimed in the
/// request (so it can answer at once); claim → stop old → write → provision run after it, off its lifetime.
/// </summary>
public static class SwitchProviderEndpoint
{
    /// <summary>What the switch itself can answer (shared with PATCH of <c>compute.provider</c>).</summary>
    public static readonly ProblemCode[] StartCodes =
        [.. StartProblems.Codes, ProblemCodes.ProviderChanged, ProblemCodes.VersionMismatch, ProblemCodes.DataLossUnconfirmed];

    public static readonly ProblemCode[] Codes = [.. ProblemCodes.Body, .. ProblemCodes.WorkspaceAccess, ProblemCodes.BadProvider, .. StartCodes];

    public static async Task<Results<Accepted<SwitchingAnswer>, Ok<NoopAnswer>, ProblemResult>> HandleAsync(HttpContext http, string id, WorkspaceStore workspaces, ProviderRegistry providers, OperationStarter starter)
    {
        if (!WorkspaceAccess.TryParseId(id, out var workspaceId, out var idProblem))
        {
            return idProblem;
        }

        var (body, _, problem) = await JsonBody.ReadObjectAsync(http.Request, required: true, http.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        if (!Fields.TryString(body!, "provider", 1, 64, out var target, out _) || target is null || !providers.TryGet(target, out _))
        {
            return Problems.BadProvider(target is null ? "provider is required and must be a string" : $"'{target}' is not a configured provider");
        }

        if (!Fields.TryBool(body!, "confirm_data_loss", out var confirm, out var error))
        {
            return Problems.Validation(error!);
        }

        var (workspace, accessProblem) = await WorkspaceAccess.LoadAsync(http, workspaceId, workspaces);
        if (accessProblem is not null)
        {
            return accessProblem;
        }

        return await StartAsync(workspace!, target, confirm ?? false, expectedVersion: null, patch: null, starter, http.RequestAborted);
    }

    /// <summary>
    /// The switch itself, shared with <c>PATCH</c> of <c>compute.provider</c>: the same guards, the same answers. A
    /// PATCH's other fields (<paramref name="patch"/>) are written by the claim statement, so they apply only with it.
    /// </summary>
    public static async Task<Results<Accepted<SwitchingAnswer>, Ok<NoopAnswer>, ProblemResult>> StartAsync(Workspace workspace, string target, bool confirmDataLoss, int? expectedVersion,
        WorkspacePatch? patch, OperationStarter starter, CancellationToken ct)
    {
        if (workspace.IsExternal)
        {
            return Problems.Of(ProblemCodes.ExternalRuntime, "An external workspace has no box to switch.");
        }

        // checked before "already there": mid-switch the row already names the target, but the switch is not done
        if (workspace.ClaimId is { } holder)
        {
            return StartProblems.Busy(holder);
        }

        if (workspace.Compute.Provider == target)
        {
            return TypedResults.Ok(NoopAnswer.For(workspace.Id, target));
        }

        if (workspace.Compute.DataPersistence == Compute.Persist && !confirmDataLoss)
        {
            return Problems.Of(ProblemCodes.DataLossUnconfirmed,
                "This workspace persists data on its box; switching providers loses it. Send confirm_data_loss: true.");
        }

        var result = await starter.StartAsync(new StartRequest(
            workspace.Id, OperationKind.SwitchProvider, "api",
            ExpectedProvider: workspace.Compute.Provider, TargetProvider: target, ExpectedVersion: expectedVersion,
            Patch: patch is { IsEmpty: false } ? patch : null), ct);
        if (result.Outcome != StartOutcome.Started)
        {
            return StartProblems.For(result);
        }

        return TypedResults.Accepted((string?)null, new SwitchingAnswer(
            "switching", workspace.Id, workspace.Compute.Provider, target, new OperationRef(result.OperationId!.Value, OperationKind.SwitchProvider)));
    }
}
