using System.Text.Json.Nodes;
using Molecule.Api.Http;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary>
/// <c>GET /operations?state=stuck</c>: active operations older than <see cref="ExpectedDuration"/>, whose claim
/// expired, or that no longer hold their claim — oldest first. What an operator opens before the Step Functions console.
/// </summary>
public static class StuckOperationsEndpoint
{
    /// <summary>
    /// Longer than any healthy operation takes: await-running's 12 min plus every step's retries.
    /// </summary>
    public static readonly TimeSpan ExpectedDuration = TimeSpan.FromMinutes(15);

    public static async Task<IResult> HandleAsync(HttpContext http, OperationStore operations)
    {
        if (WorkspaceAccess.RequireAdmin(http) is { } forbidden)
        {
            return forbidden;
        }

        if (http.Request.Query["state"].ToString() != "stuck")
        {
            return Problems.Validation("state must be 'stuck' (the only listing this route offers)");
        }

        var limit = 100;
        if (http.Request.Query["limit"].ToString() is { Length: > 0 } rawLimit && (!int.TryParse(rawLimit, out limit) || limit is < 1 or > 500))
        {
            return Problems.Validation("limit must be an integer from 1 to 500");
        }

        var stuck = await operations.ListStuckAsync(ExpectedDuration, limit, http.RequestAborted);
        return new JsonNodeResult(new JsonArray(stuck.Select(op => (JsonNode)OperationEndpoints.Body(op)).ToArray()), StatusCodes.Status200OK);
    }
}
