using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Contract;
using Molecule.Api.Hosting;
using Molecule.Api.Http;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary>
/// <c>POST /internal/migrate</c> (role <c>migrate</c>): the deploy's <c>Custom::Migrate</c>, delivered by the Lambda Web
/// Adapter on its pass-through path. Create and Update apply the migrations (under the migrator's advisory lock);
/// Delete changes nothing, because removing a stack must never drop the data. Whatever happens, CloudFormation gets
/// an answer within the budget — SUCCESS, or FAILED with the reason — so a failed migration fails the deploy instead
/// of hanging it. A 502 (the answer could not be delivered) makes the invocation fail, and Lambda's retry of the
/// asynchronous invocation runs it again: the migrations are idempotent.
/// </summary>
public static class MigrateEndpoint
{
    /// <summary>The one physical id of the schema: an Update that kept it never makes CloudFormation send a Delete.</summary>
    public const string PhysicalResourceId = "molecule-schema";

    private static readonly Func<ILogger, string, string, IDisposable?> RequestScope =
        LoggerMessage.DefineScope<string, string>("CloudFormation {cfn_request_type} {cfn_request_id}");

    /// <summary>Time kept back from the invocation's deadline to PUT the answer.</summary>
    private static readonly TimeSpan AnswerReserve = TimeSpan.FromSeconds(15);

    public static async Task<Results<Ok<MigrateAnswer>, ProblemResult>> HandleAsync(HttpContext http, CloudFormationResponder responder, MigrateOptions options, TimeProvider time,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Molecule.Api.Migrate");
        var (body, _, problem) = await JsonBody.ReadObjectAsync(http.Request, required: true, http.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        var (request, error) = CustomResourceRequest.Parse(body!);
        if (request is null)
        {
            logger.LogError("refused a migrate event: {reason}", error);
            return Problems.Validation(error!);
        }

        using var scope = RequestScope(logger, request.RequestType, request.RequestId);
        var (succeeded, reason) = await RunAsync(request, http.RequestServices, Budget(http, options, time), time, logger);

        var status = succeeded ? "SUCCESS" : "FAILED";
        var document = CloudFormationResponder.Document(request, succeeded, reason, request.PhysicalResourceId ?? PhysicalResourceId);
        // the answer must go out even if the adapter has given up on this request
        var undelivered = await responder.SendAsync(request.ResponseUrl, document, CancellationToken.None);
        if (undelivered is not null)
        {
            logger.LogError("could not answer CloudFormation {status}: {error}", status, undelivered);
            return Problems.Of(ProblemCodes.CfnResponseFailed, "CloudFormation could not be answered.", undelivered);
        }

        logger.LogInformation("answered CloudFormation {request_type} with {status}", request.RequestType, status);
        return TypedResults.Ok(new MigrateAnswer(status, request.RequestType, reason));
    }

    private static async Task<(bool Succeeded, string? Reason)> RunAsync(CustomResourceRequest request, IServiceProvider services, TimeSpan budget,
        TimeProvider time, ILogger logger)
    {
        switch (request.RequestType)
        {
            case CustomResourceRequest.Delete:
                logger.LogInformation("custom resource deleted: the schema and its data are kept");
                return (true, null);
            case CustomResourceRequest.Create or CustomResourceRequest.Update:
                break;
            default:
                return (false, $"unknown RequestType '{request.RequestType}'");
        }

        using var deadline = new CancellationTokenSource(budget, time);
        try
        {
            var migrator = services.GetRequiredService<DatabaseMigrator>();
            // DbUp runs its scripts synchronously and cannot be cancelled mid-script: past the budget the answer goes
            // out anyway, and a script cut off with the function rolls back in Postgres (one transaction per script)
            await migrator.MigrateAsync(deadline.Token).WaitAsync(budget, time);
            logger.LogInformation("applied the migrations for CloudFormation {request_type}", request.RequestType);
            return (true, null);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            logger.LogError("the migrations did not finish within {budget_seconds} s", budget.TotalSeconds);
            return (false, WithLogPointer($"the migrations did not finish within {budget.TotalSeconds:0} s"));
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "the migrations failed");
            return (false, WithLogPointer($"the migrations failed: {Describe(ex)}"));
        }
    }

    /// <summary>The configured budget, cut to the invocation's deadline (less time to answer) when the adapter passes it.</summary>
    private static TimeSpan Budget(HttpContext http, MigrateOptions options, TimeProvider time)
    {
        var budget = options.Budget;
        if (http.Request.Headers.TryGetValue("x-amzn-lambda-context", out var header) && DeadlineOf(header.ToString()) is { } deadline)
        {
            var left = deadline - time.GetUtcNow() - AnswerReserve;
            budget = left < budget ? left : budget;
        }

        return budget > TimeSpan.FromSeconds(1) ? budget : TimeSpan.FromSeconds(1);
    }

    /// <summary>The <c>deadline</c> (epoch milliseconds) of the Lambda context the adapter forwards, if it parses.</summary>
    private static DateTimeOffset? DeadlineOf(string lambdaContext)
    {
        try
        {
            return JsonNode.Parse(lambdaContext)?["deadline"] is JsonValue value && value.TryGetValue<long>(out var ms)
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
                : null;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The message chain, which names the failing script or the unreachable database but holds no secret.</summary>
    private static string Describe(Exception ex) =>
        ex.InnerException is null ? ex.Message : $"{ex.Message}: {Describe(ex.InnerException)}";

    private static string WithLogPointer(string reason) =>
        Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_STREAM_NAME") is { Length: > 0 } stream
            ? $"{reason} (log stream {stream})"
            : reason;
}
