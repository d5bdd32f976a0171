using System.Text.Json.Nodes;
using Molecule.Api.Auth;
using Molecule.Api.Http;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary><c>GET /operations/{id}</c>: where an operation is, with a Step Functions console link when it runs in AWS.</summary>
public static class OperationEndpoints
{
    public static async Task<IResult> GetAsync(HttpContext http, string id, OperationStore operations)
    {
        if (!Guid.TryParseExact(id, "D", out var operationId))
        {
            return Problems.Validation("id must be a UUID");
        }

        var op = await operations.GetAsync(operationId, http.RequestAborted);
        if (op is null)
        {
            return Problems.NotFound("operation");
        }

        if (!http.Caller().MayAccess(op.WorkspaceId))
        {
            // DESIGN §10: another workspace's resource is a 403 (operation ids are random UUIDs, so this tells nothing guessable)
            return Problems.Forbidden();
        }

        return new JsonNodeResult(Body(op), StatusCodes.Status200OK);
    }

    public static JsonObject Body(Operation op) => new()
    {
        ["id"] = op.Id,
        ["workspace_id"] = op.WorkspaceId,
        ["kind"] = op.Kind,
        ["state"] = op.State,
        ["step"] = op.Step,
        ["error"] = op.Error,
        ["execution_arn"] = op.ExecutionArn,
        ["console_url"] = ConsoleUrl(op.ExecutionArn),
        ["dispatch_count"] = op.DispatchCount,
        ["created_at"] = op.CreatedAt,
        ["started_at"] = op.StartedAt,
        ["finished_at"] = op.FinishedAt,
    };

    /// <summary>A Step Functions execution's console page; null for the local runner's executions.</summary>
    public static string? ConsoleUrl(string? executionArn)
    {
        // arn:aws:states:<region>:<account>:execution:<state machine>:<name>
        var parts = executionArn?.Split(':');
        if (parts is not { Length: >= 8 } || parts[0] != "arn" || parts[2] != "states")
        {
            return null;
        }

        var region = parts[3];
        return $"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{Uri.EscapeDataString(executionArn!)}";
    }
}
