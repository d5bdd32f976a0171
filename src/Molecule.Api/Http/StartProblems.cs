using System.Text.Json.Nodes;
using Molecule.Workspaces.Operations;

namespace Molecule.Api.Http;

/// <summary>The answer for a request whose claim was not won: it changed nothing, and says why.</summary>
public static class StartProblems
{
    public static IResult For(StartResult result) => result.Outcome switch
    {
        StartOutcome.NotFound => Problems.NotFound(),
        StartOutcome.Removed => Problems.Removed(result.Workspace!.Id, result.Workspace.RemovedAt),
        StartOutcome.ExternalRuntime => Problems.Of(409, "EXTERNAL_RUNTIME", "An external workspace has no box to operate on."),
        StartOutcome.Busy => Problems.Of(409, "ALREADY_SWITCHING", "Another operation holds this workspace.", null,
            new JsonObject { ["operation"] = result.OperationId is { } op ? new JsonObject { ["id"] = op } : null }),
        StartOutcome.ProviderChanged => Problems.Of(409, "ALREADY_SWITCHING", "The workspace's provider changed since it was read.", null,
            new JsonObject { ["provider"] = result.Workspace?.Compute.Provider }),
        StartOutcome.VersionMismatch => Problems.Of(412, "VERSION_MISMATCH", "The workspace changed since that version was read.", null,
            new JsonObject { ["current_version"] = result.Workspace?.Version }),
        StartOutcome.ParentPaused => Problems.Of(409, "PARENT_PAUSED", "An ancestor of this workspace is paused."),
        StartOutcome.InvalidState => Problems.Of(409, "INVALID_STATE", "The workspace's status does not allow this operation.",
            $"status is {result.Workspace?.Status}", new JsonObject { ["status"] = result.Workspace?.Status }),
        StartOutcome.NameTaken => Problems.Of(409, "NAME_TAKEN", "A live sibling already has this name."),
        _ => throw new InvalidOperationException($"no problem for {result.Outcome}"),
    };

    public static JsonObject Operation(Guid id, string kind) => new() { ["id"] = id, ["kind"] = kind };
}
