using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Auth;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary><c>POST /workspaces/{id}/restart</c>, <c>/pause</c> and <c>/resume</c>.</summary>
public static class LifecycleEndpoints
{
    private const int MaxCascade = 1000;

    public static readonly ProblemCode[] RestartCodes = [.. ProblemCodes.WorkspaceAccess, .. StartProblems.Codes];

    public static readonly ProblemCode[] CascadeCodes =
        [.. ProblemCodes.WorkspaceAccess, .. StartProblems.Codes, ProblemCodes.Descendants, ProblemCodes.TooManyDescendants];

    /// <summary>Restart: a new box for the same workspace. While another operation holds the claim, that operation is the answer.</summary>
    public static async Task<Results<Accepted<OperationStartedAnswer>, Ok<NoopAnswer>, ProblemResult>> RestartAsync(HttpContext http, string id,
        WorkspaceStore workspaces, OperationStarter starter)
    {
        var (workspace, problem) = await WorkspaceAccess.LoadAsync(http, id, workspaces);
        if (problem is not null)
        {
            return problem;
        }

        if (workspace!.IsExternal)
        {
            return TypedResults.Ok(NoopAnswer.For(workspace.Id));
        }

        var result = await starter.StartAsync(new StartRequest(workspace.Id, OperationKind.Restart, "api"), http.RequestAborted);
        return result switch
        {
            { Outcome: StartOutcome.Started } => Started(WorkspaceStatus.Provisioning, result.OperationId!.Value, OperationKind.Restart),
            // a restart asked for while one is under way is already being served: no second operation
            { Outcome: StartOutcome.Busy, OperationId: { } holder } => Started(WorkspaceStatus.Provisioning, holder, result.Workspace?.ClaimKind),
            _ => StartProblems.For(result),
        };
    }

    public static Task<Results<Accepted<CascadeAnswer>, ProblemResult>> PauseAsync(HttpContext http, string id, string? cascade,
        WorkspaceStore workspaces, OperationStarter starter) =>
        CascadeAsync(http, id, cascade, OperationKind.Pause, workspaces, starter);

    public static Task<Results<Accepted<CascadeAnswer>, ProblemResult>> ResumeAsync(HttpContext http, string id, string? cascade,
        WorkspaceStore workspaces, OperationStarter starter) =>
        CascadeAsync(http, id, cascade, OperationKind.Resume, workspaces, starter);

    /// <summary>
    /// Pause or resume a workspace and, with <c>?cascade=true</c>, its live descendants (parents first, so a resumed
    /// parent is no longer a paused ancestor when its children are claimed). Without cascade, a workspace with live
    /// descendants answers 409 <c>DESCENDANTS</c> and nothing changes. The workspace itself is claimed first: if that
    /// fails, no descendant is touched.
    /// </summary>
    private static async Task<Results<Accepted<CascadeAnswer>, ProblemResult>> CascadeAsync(HttpContext http, string id, string? cascadeRaw,
        string kind, WorkspaceStore workspaces, OperationStarter starter)
    {
        if (!QueryValues.TryFlag("cascade", cascadeRaw, out var cascade, out var flagProblem))
        {
            return flagProblem;
        }

        var (workspace, problem) = await WorkspaceAccess.LoadAsync(http, id, workspaces);
        if (problem is not null)
        {
            return problem;
        }

        if (workspace!.IsExternal)
        {
            return Problems.Of(ProblemCodes.ExternalRuntime, "An external workspace has no box to pause or resume.");
        }

        var descendants = (await workspaces.LiveDescendantsAsync(workspace.Id, MaxCascade + 1, http.RequestAborted)).Select(c => c.Id).ToList();
        if (descendants.Count > 0 && !cascade)
        {
            return new ProblemResult(ProblemCodes.Descendants.Status, new DescendantsProblem
            {
                Error = ProblemCodes.Descendants.Error,
                Title = $"The workspace has live descendants; send ?cascade=true to {kind} them too.",
                Status = ProblemCodes.Descendants.Status,
                ChildrenCount = descendants.Count,
            });
        }

        if (descendants.Count > 0 && !http.Caller().IsAdmin)
        {
            // a workspace token acts on its own workspace only; the cascade would reach others
            return Problems.Forbidden($"A workspace token may {kind} only its own workspace, not its descendants.");
        }

        if (descendants.Count > MaxCascade)
        {
            return Problems.Of(ProblemCodes.TooManyDescendants, $"More than {MaxCascade} descendants: {kind} the subtree in parts.");
        }

        var self = await starter.StartAsync(new StartRequest(workspace.Id, kind, "api"), CancellationToken.None);
        if (self.Outcome != StartOutcome.Started)
        {
            return StartProblems.For(self);
        }

        // the cascade runs to the end even if the client goes away: a half-paused subtree is nobody's intent
        var children = new List<CascadeChildAnswer>(descendants.Count);
        foreach (var childId in descendants)
        {
            var child = await starter.StartAsync(new StartRequest(childId, kind, "api"), CancellationToken.None);
            children.Add(child.Outcome == StartOutcome.Started
                ? new CascadeChildAnswer(childId, new OperationRef(child.OperationId!.Value, kind), Skipped: null)
                : new CascadeChildAnswer(childId, Operation: null, SkipReason(child)));
        }

        var status = kind == OperationKind.Pause ? "pausing" : "resuming";
        return TypedResults.Accepted((string?)null, new CascadeAnswer(status, new OperationRef(self.OperationId!.Value, kind), children));
    }

    private static string SkipReason(StartResult result) => result.Outcome switch
    {
        StartOutcome.InvalidState => $"status {result.Workspace?.Status}",
        StartOutcome.ExternalRuntime => "external runtime",
        StartOutcome.Busy => "another operation holds it",
        StartOutcome.ParentPaused => "an ancestor is paused",
        _ => result.Outcome.ToString(),
    };

    private static Accepted<OperationStartedAnswer> Started(string status, Guid operationId, string? kind) =>
        TypedResults.Accepted((string?)null, new OperationStartedAnswer(status, new OperationRef(operationId, kind)));
}
