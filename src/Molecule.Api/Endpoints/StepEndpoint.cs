using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Operations;

namespace Molecule.Api.Endpoints;

/// <summary>
/// Role <c>steps</c>: <c>POST /internal/steps</c>, the state machine's Tasks as the Lambda Web Adapter passes them
/// through. Takes <c>{"step", "operation_id", "execution_arn"}</c> and answers 200
/// <c>{"outcome", "wait_seconds", "error"}</c> (all three keys, null when they do not apply) for every domain outcome.
/// A body that is not that shape is a 400 problem and runs nothing; an unexpected fault is a 500, which the adapter
/// turns into a function error so the Task's <c>Retry</c> and <c>Catch</c> apply.
/// </summary>
public static class StepEndpoint
{
    private const int MaxExecutionIdLength = 2048;

    public static async Task<Results<Ok<StepAnswer>, ProblemResult>> HandleAsync(HttpContext http, IStepExecutor executor)
    {
        var (body, _, problem) = await JsonBody.ReadObjectAsync(http.Request, required: true, http.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        var (request, invalid) = Parse(body!);
        if (invalid is not null)
        {
            return invalid;
        }

        StepResult result;
        try
        {
            result = await executor.RunAsync(request!.Step, request.OperationId, request.ExecutionArn, http.RequestAborted);
        }
        catch (Exception ex) when (!http.RequestAborted.IsCancellationRequested && ex is not BadHttpRequestException)
        {
            // the executor has logged it with the operation's fields; the state machine retries the Task
            return Problems.Of(ProblemCodes.StepCrashed, "The step failed unexpectedly; the state machine retries it.");
        }

        return TypedResults.Ok(new StepAnswer(result.Outcome, result.WaitSeconds, result.Error));
    }

    private static (StepRequest? Request, ProblemResult? Problem) Parse(JsonObject body)
    {
        if (!Fields.TryString(body, "step", 1, 64, out var step, out _) || step is null || !StepNames.All.Contains(step))
        {
            return (null, Problems.Validation($"step is required and must be one of: {string.Join(", ", StepNames.All.Order(StringComparer.Ordinal))}"));
        }

        if (!Fields.TryUuid(body, "operation_id", out var operationId, out var error) || operationId is null)
        {
            return (null, Problems.Validation(error ?? "operation_id is required"));
        }

        if (!Fields.TryString(body, "execution_arn", 1, MaxExecutionIdLength, out var executionArn, out error) || executionArn is null)
        {
            return (null, Problems.Validation(error ?? "execution_arn is required"));
        }

        return (new StepRequest(step, operationId.Value, executionArn), null);
    }
}
