using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Auth;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary><c>GET /operations/{id}</c>: where an operation is, with a Step Functions console link when it runs in AWS.</summary>
public static class OperationEndpoints
{
    public static readonly ProblemCode[] Codes = [ProblemCodes.Validation, ProblemCodes.NotFound, ProblemCodes.Forbidden];

    public static async Task<Results<Ok<OperationAnswer>, ProblemResult>> GetAsync(HttpContext http, string id, OperationStore operations)
    {
        if (!WorkspaceAccess.TryParseId(id, out var operationId, out var idProblem))
        {
            return idProblem;
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

        return TypedResults.Ok(Answer(op));
    }

    public static OperationAnswer Answer(Operation op) => new(
        op.Id, op.WorkspaceId, op.Kind, op.State, op.Step, op.Error, op.ExecutionArn, ConsoleUrl(op.ExecutionArn), op.DispatchCount,
        op.CreatedAt, op.StartedAt, op.FinishedAt);

    /// <summary>
    /// The Step Functions console page of an execution, for an execution id that is a Step Functions execution ARN
    /// (<c>arn:&lt;partition&gt;:states:&lt;region&gt;:&lt;account&gt;:execution:&lt;state machine&gt;:&lt;name&gt;</c>); null for
    /// the local runner's executions and anything else.
    /// </summary>
    public static string? ConsoleUrl(string? executionArn)
    {
        var parts = executionArn?.Split(':');
        if (parts is not { Length: 8 } || parts[0] != "arn" || parts[2] != "states" || parts[5] != "execution"
            || !parts[3].All(c => char.IsAsciiLetterOrDigit(c) || c == '-') || parts[3].Length == 0)
        {
            return null;
        }

        var region = parts[3];
        var console = parts[1] switch
        {
            "aws" => $"https://{region}.console.aws.amazon.com",
            "aws-cn" => "https://console.amazonaws.cn",
            "aws-us-gov" => "https://console.amazonaws-us-gov.com",
            _ => null,
        };

        // the ARN as it is, as the console's own links have it; a character a URL cannot carry is escaped within its part
        var arn = string.Join(':', parts.Select(Uri.EscapeDataString));
        return console is null ? null : $"{console}/states/home?region={region}#/v2/executions/details/{arn}";
    }
}
