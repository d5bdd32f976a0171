using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Http;

/// <summary>
/// The last line: a request the framework itself rejects (bad headers, an unreadable body) is a 4xx problem; anything
/// else unexpected is a 500 problem with no internals in it (details go to the log only). A database that is failing
/// over or restarting is not a bug of ours: that answers 503 <c>DATABASE_UNAVAILABLE</c> with <c>Retry-After</c>, which
/// the canvas retries.
/// </summary>
public static class ErrorHandling
{
    /// <summary>An RDS Multi-AZ failover takes tens of seconds; a retry a few seconds later is usually on the new primary.</summary>
    public const int DatabaseRetryAfterSeconds = 5;

    public static void UseProblemErrors(this WebApplication app)
    {
        app.UseExceptionHandler(handler => handler.Run(async http =>
        {
            var error = http.Features.Get<IExceptionHandlerFeature>()?.Error;
            var result = error switch
            {
                BadHttpRequestException bad when bad.StatusCode == StatusCodes.Status413PayloadTooLarge => Problems.PayloadTooLarge(JsonBody.MaxBytes),
                BadHttpRequestException bad => Problems.Of(bad.StatusCode, ProblemCodes.BadRequest.Error, "The request could not be read."),
                OperationCanceledException when http.RequestAborted.IsCancellationRequested => Problems.Of(ProblemCodes.ClientClosed, "The client went away."),
                { } ex when TransientDatabaseErrors.IsTransient(ex) => DatabaseUnavailable(http),
                _ => Problems.Of(ProblemCodes.Internal, "An unexpected error occurred."),
            };
            await result.ExecuteAsync(http);
        }));

        // unmatched routes and methods answer in the same problem shape
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            if (http.Response.HasStarted || http.Response.ContentLength is > 0 || http.Response.ContentType is not null)
            {
                return;
            }

            var status = http.Response.StatusCode;
            await (status switch
            {
                404 => Problems.Of(ProblemCodes.NotFound, "No such route."),
                405 => Problems.Of(ProblemCodes.MethodNotAllowed, "This route does not take that method."),
                _ => Problems.Of(status, "HTTP_" + status, "The request was not handled."),
            }).ExecuteAsync(http);
        });
    }

    private static ProblemResult DatabaseUnavailable(HttpContext http)
    {
        http.Response.Headers.RetryAfter = DatabaseRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Problems.Of(ProblemCodes.DatabaseUnavailable, "The database is not answering; retry shortly.");
    }
}
