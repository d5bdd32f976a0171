using System.Text.Json.Nodes;
using Molecule.Api.Auth;
using Molecule.Api.Http;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary><c>POST /workspaces/{id}/restart</c>, <c>/pause</c> and <c>/resume</c>.</summary>
public static class LifecycleEndpoints
{
    private const int MaxCascade = 1000;

    /// <summary>Restart: a new box for the same workspace. While another operation holds the claim, that operation is the answer.</summary>
    public static async Task<IResult> RestartAsync(HttpContext http, string id, WorkspaceStore workspaces, OperationStarter starter)
    {
        var (workspace, problem) = await WorkspaceAccess.LoadAsync(http, id, workspaces);
        if (problem is not null)
        {
            return problem;
        }

        if (workspace!.IsExternal)
        {
            return new JsonNodeResult(new JsonObject { ["status"] = "noop", ["workspace_id"] = workspace.Id }, StatusCodes.Status200OK);
        }

        var result = await starter.StartAsync(new StartRequest(workspace.Id, OperationKind.Restart, "api"), http.RequestAborted);
        return result switch
        {
            { Outcome: StartOutcome.Started } => Accepted(WorkspaceStatus.Provisioning, result.OperationId!.Value, OperationKind.Restart),
            // a restart asked for while one is under way is already being served: no second operation
            { Outcome: StartOutcome.Busy, OperationId: { } holder } => Accepted(WorkspaceStatus.Provisioning, holder, result.Workspace?.ClaimKind),
            _ => StartProblems.For(result),
        };
    }

    public static Task<IResult> PauseAsync(HttpContext http, string id, WorkspaceStore workspaces, OperationStarter starter) =>
        CascadeAsync(http, id, OperationKind.Pause, workspaces, starter);

    public static Task<IResult> ResumeAsync(HttpContext http, string id, WorkspaceStore workspaces, OperationStarter starter) =>
        CascadeAsync(http, id, OperationKind.Resume, workspaces, starter);

    /// <summary>
    /// Pause or resume a workspace and, with <c>?cascade=true</c>, its live descendants (parents first, so a resumed
    /// parent is no longer a paused ancestor when its children are claimed). Without cascade, a workspace with live
    /// descendants answers 409 <c>DESCENDANTS</c> and nothing changes. The workspace itself is claimed first: if that
    /// fails, no descendant is touched.
    /// </summary>
    private static async Task<IResult> CascadeAsync(HttpContext http, string id, string kind, WorkspaceStore workspaces, OperationStarter starter)
    {
        var cascadeRaw = http.Request.Query["cascade"].ToString();
        if (cascadeRaw.Length > 0 && cascadeRaw is not ("true" or "false"))
        {
            return Problems.Validation("cascade must be true or false");
        }

        var (workspace, problem) = await WorkspaceAccess.LoadAsync(http, id, workspaces);
        if (problem is not null)
        {
            return problem;
        }

        if (workspace!.IsExternal)
        {
            return Problems.Of(409, "EXTERNAL_RUNTIME", "An external workspace has no box to pause or resume.");
        }

        var descendants = (await workspaces.LiveDescendantsAsync(workspace.Id, MaxCascade + 1, http.RequestAborted)).Select(c => c.Id).ToList();
        if (descendants.Count > 0 && cascadeRaw != "true")
        {
            return Problems.Of(409, "DESCENDANTS", $"The workspace has live descendants; send ?cascade=true to {kind} them too.", null,
                new JsonObject { ["children_count"] = descendants.Count });
        }

        if (descendants.Count > 0 && !http.Caller().IsAdmin)
        {
            // a workspace token acts on its own workspace only; the cascade would reach others
            return Problems.Forbidden($"A workspace token may {kind} only its own workspace, not its descendants.");
        }

        if (descendants.Count > MaxCascade)
        {
            return Problems.Of(409, "DESCENDANTS", $"More than {MaxCascade} descendants: {kind} the subtree in parts.");
        }

        var self = await starter.StartAsync(new StartRequest(workspace.Id, kind, "api"), CancellationToken.None);
        if (self.Outcome != StartOutcome.Started)
        {
            return StartProblems.For(self);
        }

        // the cascade runs to the end even if the client goes away: a half-paused subtree is nobody's intent
        var cascade = new JsonArray();
        foreach (var childId in descendants)
        {
            var child = await starter.StartAsync(new StartRequest(childId, kind, "api"), CancellationToken.None);
            cascade.Add(new JsonObject
            {
                ["id"] = childId,
                ["operation"] = child.Outcome == StartOutcome.Started ? StartProblems.Operation(child.OperationId!.Value, kind) : null,
                ["skipped"] = child.Outcome == StartOutcome.Started ? null : SkipReason(child),
            });
        }

        var body = Body(kind == OperationKind.Pause ? "pausing" : "resuming", self.OperationId!.Value, kind);
        body["cascade"] = cascade;
        return new JsonNodeResult(body, StatusCodes.Status202Accepted);
    }

    private static string SkipReason(StartResult result) => result.Outcome switch
    {
        StartOutcome.InvalidState => $"status {result.Workspace?.Status}",
        StartOutcome.ExternalRuntime => "external runtime",
        StartOutcome.Busy => "another operation holds it",
        StartOutcome.ParentPaused => "an ancestor is paused",
        _ => result.Outcome.ToString(),
    };

    private static IResult Accepted(string status, Guid operationId, string? kind) =>
        new JsonNodeResult(Body(status, operationId, kind), StatusCodes.Status202Accepted);

    private static JsonObject Body(string status, Guid operationId, string? kind) => new()
    {
        ["status"] = status,
        ["operation"] = new JsonObject { ["id"] = operationId, ["kind"] = kind },
    };
}
