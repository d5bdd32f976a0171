using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging.Console;

namespace Molecule.Api.Hosting;

/// <summary>
/// In the Lambda roles every log entry is one JSON object on one stdout line, scopes included (the operation and
/// workspace ids a step runs under), so CloudWatch Logs Insights can filter on them. The sweeps' metric lines are
/// written straight to stdout in Embedded Metric Format and are not log entries: this changes nothing about them.
/// Locally (role <c>all</c>) the readable console format stays.
/// </summary>
public static class LambdaLogging
{
    public static ILoggingBuilder AddMoleculeConsole(this ILoggingBuilder logging, string role)
    {
        if (!ServiceRoles.RunsInLambda(role))
        {
            return logging;
        }

        logging.ClearProviders();
        logging.AddJsonConsole(json =>
        {
            json.IncludeScopes = true;
            json.UseUtcTimestamp = true;
            json.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            // log lines are never embedded in HTML: keep quotes and non-ASCII names readable instead of \u-escaped
            json.JsonWriterOptions = new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        });

        // a Lambda environment variable cannot carry the dotted category of appsettings' filter, and the artifact ships
        // no appsettings.json: the per-request framework lines stay out of the logs here
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        return logging;
    }
}
