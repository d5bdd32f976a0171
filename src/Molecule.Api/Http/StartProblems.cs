using Molecule.Api.Contract;
using Molecule.Workspaces.Operations;

namespace Molecule.Api.Http;

/// <summary>The answer for a request whose claim was not won: it changed nothing, and says why.</summary>
public static class StartProblems
{
    /// <summary>
    /// What any operation's start can answer besides the workspace checks (a switch also checks the provider and version
    /// it read: <see cref="Endpoints.SwitchProviderEndpoint.StartCodes"/>).
    /// </summary>
    public static readonly ProblemCode[] Codes = [ProblemCodes.ExternalRuntime, ProblemCodes.AlreadySwitching, ProblemCodes.ParentPaused, ProblemCodes.InvalidState];

    public static ProblemResult For(StartResult result) => result.Outcome switch
    {
        StartOutcome.NotFound => Problems.NotFound(),
        StartOutcome.Removed => Problems.Removed(result.Workspace!.Id, result.Workspace.RemovedAt),
        StartOutcome.ExternalRuntime => Problems.Of(ProblemCodes.ExternalRuntime, "An external workspace has no box to operate on."),
        StartOutcome.Busy => Busy(result.OperationId),
        StartOutcome.ProviderChanged => new ProblemResult(ProblemCodes.ProviderChanged.Status, new ProviderChangedProblem
        {
            Error = ProblemCodes.ProviderChanged.Error,
            Title = "The workspace's provider changed since it was read.",
            Status = ProblemCodes.ProviderChanged.Status,
            Provider = result.Workspace?.Compute.Provider,
        }),
        StartOutcome.VersionMismatch => Problems.VersionMismatch(result.Workspace?.Version),
        StartOutcome.ParentPaused => Problems.Of(ProblemCodes.ParentPaused, "An ancestor of this workspace is paused."),
        StartOutcome.InvalidState => new ProblemResult(ProblemCodes.InvalidState.Status, new InvalidStateProblem
        {
            Error = ProblemCodes.InvalidState.Error,
            Title = "The workspace's status does not allow this operation.",
            Detail = $"status is {result.Workspace?.Status}",
            // problem+json's status is the HTTP code; the workspace's own status has a member of its own
            Status = ProblemCodes.InvalidState.Status,
            WorkspaceStatus = result.Workspace?.Status,
        }),
        StartOutcome.NameTaken => Problems.NameTaken(),
        _ => throw new InvalidOperationException($"no problem for {result.Outcome}"),
    };

    /// <summary>Another operation holds the workspace (its id when known).</summary>
    internal static ProblemResult Busy(Guid? operationId) => new(ProblemCodes.AlreadySwitching.Status, new BusyProblem
    {
        Error = ProblemCodes.AlreadySwitching.Error,
        Title = "Another operation holds this workspace.",
        Status = ProblemCodes.AlreadySwitching.Status,
        Operation = operationId is { } id ? new OperationIdAnswer(id) : null,
    });
}
