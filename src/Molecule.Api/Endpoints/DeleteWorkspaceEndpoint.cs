using System.Text.Json.Nodes;
using Molecule.Api.Auth;
using Molecule.Api.Http;
using Molecule.Workspaces.Operations;

namespace Molecule.Api.Endpoints;

/// <summary><c>DELETE /workspaces/{id}</c> (<c>?confirm=true</c>, <c>X-Confirm-Name</c>): the cascade delete of DESIGN §6.</summary>
public static class DeleteWorkspaceEndpoint
{
    /// <summary>When a client should retry a delete whose boxes are still being terminated: one sweep interval.</summary>
    private const int RetryAfterSeconds = 60;

    public static async Task<IResult> HandleAsync(HttpContext http, string id, WorkspaceDeleter deleter)
    {
        if (!WorkspaceAccess.TryParseId(id, out var workspaceId, out var problem))
        {
            return problem!;
        }

        if (!http.Caller().MayAccess(workspaceId))
        {
            return Problems.Forbidden();
        }

        var confirm = http.Request.Query["confirm"].ToString();
        if (confirm.Length > 0 && confirm is not ("true" or "false"))
        {
            return Problems.Validation("confirm must be true or false");
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

        var result = await deleter.DeleteAsync(workspaceId, confirm == "true", confirmName, mayCascade: http.Caller().IsAdmin, http.RequestAborted);
        switch (result.Outcome)
        {
            case DeleteOutcome.Removed:
                return new JsonNodeResult(new JsonObject { ["status"] = "removed", ["cascade_deleted"] = result.RemovedCount - 1 }, StatusCodes.Status200OK);
            case DeleteOutcome.AlreadyRemoved:
                return Problems.Removed(workspaceId, result.RemovedAt);
            case DeleteOutcome.NotFound:
                return Problems.NotFound();
            case DeleteOutcome.NameMismatch:
                return Problems.Of(400, "CONFIRM_NAME_MISMATCH", "X-Confirm-Name does not match the workspace's name.");
            case DeleteOutcome.ConfirmationRequired:
                return Problems.Of(409, "CONFIRMATION_REQUIRED", "The workspace has live descendants; send ?confirm=true to delete them too.", null,
                    new JsonObject
                    {
                        ["children"] = new JsonArray(result.Children.Select(c => (JsonNode)new JsonObject { ["id"] = c.Id, ["name"] = c.Name }).ToArray()),
                        ["children_count"] = result.ChildrenCount,
                    });
            case DeleteOutcome.CascadeForbidden:
                return Problems.Forbidden("The workspace has live descendants; a workspace token may delete only its own workspace.");
            default:
                http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Problems.Of(503, "TERMINATE_PENDING", "The workspace is removed, but some boxes could not be terminated yet; the orphan sweeper will.", null,
                    new JsonObject
                    {
                        ["removed_count"] = result.RemovedCount,
                        ["pending"] = new JsonArray(result.Pending.Select(p => (JsonNode)new JsonObject
                        {
                            ["workspace_id"] = p.Box.WorkspaceId,
                            ["instance_id"] = p.Box.InstanceId,
                            ["provider"] = p.Box.Provider,
                            ["last_error"] = p.LastError,
                        }).ToArray()),
                    });
        }
    }
}
