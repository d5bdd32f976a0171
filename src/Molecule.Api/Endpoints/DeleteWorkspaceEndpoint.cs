using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Auth;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Operations;

namespace Molecule.Api.Endpoints;

/// <summary><c>DELETE /workspaces/{id}</c> (<c>?confirm=true</c>, <c>X-Confirm-Name</c>): the cascade delete of DESIGN §6.</summary>
public static class DeleteWorkspaceEndpoint
{
    /// <summary>When a client should retry a delete whose boxes are still being terminated: one sweep interval.</summary>
    private const int RetryAfterSeconds = 60;

    public static readonly ProblemCode[] Codes =
        [.. ProblemCodes.WorkspaceAccess, ProblemCodes.ConfirmNameMismatch, ProblemCodes.ConfirmationRequired, ProblemCodes.TerminatePending];

    public static async Task<Results<Ok<DeletedAnswer>, ProblemResult>> HandleAsync(HttpContext http, string id, string? confirm,
        WorkspaceDeleter deleter)
    {
        if (!WorkspaceAccess.TryAuthorize(http, id, out var workspaceId, out var problem)
            || !QueryValues.TryFlag("confirm", confirm, out var confirmed, out problem))
        {
            return problem;
        }

        string? confirmName = null;
        if (http.Request.Headers.TryGetValue("X-Confirm-Name", out var header))
        {
            confirmName = header.ToString();
            if (!Fields.IsStorable(confirmName) || confirmName.Length > 1000)
            {
                return Problems.Validation("X-Confirm-Name is not a valid name");
            }
        }

        var result = await deleter.DeleteAsync(workspaceId, confirmed, confirmName, mayCascade: http.Caller().IsAdmin, http.RequestAborted);
        switch (result.Outcome)
        {
            case DeleteOutcome.Removed:
                return TypedResults.Ok(DeletedAnswer.Of(result.RemovedCount - 1));
            case DeleteOutcome.AlreadyRemoved:
                return Problems.Removed(workspaceId, result.RemovedAt);
            case DeleteOutcome.NotFound:
                return Problems.NotFound();
            case DeleteOutcome.NameMismatch:
                return Problems.Of(ProblemCodes.ConfirmNameMismatch, "X-Confirm-Name does not match the workspace's name.");
            case DeleteOutcome.ConfirmationRequired:
                return new ProblemResult(ProblemCodes.ConfirmationRequired.Status, new ConfirmationRequiredProblem
                {
                    Error = ProblemCodes.ConfirmationRequired.Error,
                    Title = "The workspace has live descendants; send ?confirm=true to delete them too.",
                    Status = ProblemCodes.ConfirmationRequired.Status,
                    Children = result.Children.Select(c => new ChildAnswer(c.Id, c.Name)).ToArray(),
                    ChildrenCount = result.ChildrenCount,
                });
            case DeleteOutcome.CascadeForbidden:
                return Problems.Forbidden("The workspace has live descendants; a workspace token may delete only its own workspace.");
            default:
                http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return new ProblemResult(ProblemCodes.TerminatePending.Status, new TerminatePendingProblem
                {
                    Error = ProblemCodes.TerminatePending.Error,
                    Title = "The workspace is removed, but some boxes could not be terminated yet; the orphan sweeper will.",
                    Status = ProblemCodes.TerminatePending.Status,
                    RemovedCount = result.RemovedCount,
                    Pending = result.Pending.Select(p => new PendingBoxAnswer(p.Box.WorkspaceId, p.Box.InstanceId, p.Box.Provider, p.LastError)).ToArray(),
                });
        }
    }
}
