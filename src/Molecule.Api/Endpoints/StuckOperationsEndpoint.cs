using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary>
/// <c>GET /operations?state=stuck</c> (admin): active operations older than <see cref="ExpectedDuration"/>, whose claim
/// expired, or that no longer hold their claim — oldest first. What an operator opens before the Step Functions console.
/// </summary>
public static class StuckOperationsEndpoint
{
    /// <summary>
    /// Longer than any healthy operation takes: await-running's 12 min plus every step's retries.
    /// </summary>
    public static readonly TimeSpan ExpectedDuration = TimeSpan.FromMinutes(15);

    public static async Task<Results<Ok<IReadOnlyList<OperationAnswer>>, ProblemResult>> HandleAsync(HttpContext http, string? state, string? limit,
        OperationStore operations)
    {
        if (state != "stuck")
        {
            return Problems.Validation("state must be 'stuck' (the only listing this route offers)");
        }

        if (!QueryValues.TryLimit(limit, out var count, out var problem))
        {
            return problem;
        }

        var stuck = await operations.ListStuckAsync(ExpectedDuration, count, http.RequestAborted);
        return TypedResults.Ok<IReadOnlyList<OperationAnswer>>(stuck.Select(OperationEndpoints.Answer).ToArray());
    }
}
