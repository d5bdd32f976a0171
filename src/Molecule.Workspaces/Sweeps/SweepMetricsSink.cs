using System.Buffers;
using System.Text;
using System.Text.Json;
using Molecule.Workspaces.Operations.Steps;

namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// Writes every sweep tick as one line of CloudWatch Embedded Metric Format: in Lambda the log pipeline turns the
/// line into metrics (namespace <c>Molecule</c>, dimensions <c>Deployment</c> and <c>Sweep</c>) with no SDK and no
/// network call; locally it is a readable JSON log line. The host writes to stdout; tests hand in a
/// <see cref="StringWriter"/> and parse it.
/// </summary>
public sealed class SweepMetricsSink(TextWriter output, TimeProvider time, DeploymentIdentity deployment)
{
    public const string Namespace = "Molecule";

    // two stacks in one account share the namespace: without the deployment, their sweeps' figures (and the alarms
    // that watch them) would blend into one series
    public const string DeploymentDimension = "Deployment";
    public const string SweepDimension = "Sweep";
    public const string DurationMetric = "duration_ms";
    public const string BudgetExhaustedMetric = "budget_exhausted";
    public const string TickFailedMetric = "tick_failed";

    // errors can be long (provider messages); the line must stay well under CloudWatch's 256 KB event limit
    private const int MaxErrorLength = 1000;

    // several schedulers share one sink, and a test's StringWriter is not thread-safe
    private readonly Lock gate = new();

    public void Write(SweepTick tick)
    {
        var metrics = new List<(string Name, string Unit, double Value)>();
        foreach (var count in tick.Result?.Counts ?? [])
        {
            metrics.Add((count.Name, "Count", count.Value));
        }

        metrics.Add((BudgetExhaustedMetric, "Count", tick.BudgetExhausted ? 1 : 0));
        metrics.Add((TickFailedMetric, "Count", tick.Failed ? 1 : 0));
        metrics.Add((DurationMetric, "Milliseconds", Math.Round(tick.Duration.TotalMilliseconds, 3)));

        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("_aws");
            json.WriteNumber("Timestamp", time.GetUtcNow().ToUnixTimeMilliseconds());
            json.WriteStartArray("CloudWatchMetrics");
            json.WriteStartObject();
            json.WriteString("Namespace", Namespace);
            json.WriteStartArray("Dimensions");
            json.WriteStartArray();
            json.WriteStringValue(DeploymentDimension);
            json.WriteStringValue(SweepDimension);
            json.WriteEndArray();
            json.WriteEndArray();
            json.WriteStartArray("Metrics");
            foreach (var (name, unit, _) in metrics)
            {
                json.WriteStartObject();
                json.WriteString("Name", name);
                json.WriteString("Unit", unit);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();

            json.WriteString(DeploymentDimension, deployment.Id);
            json.WriteString(SweepDimension, tick.Sweep);
            foreach (var (name, _, value) in metrics)
            {
                json.WriteNumber(name, value);
            }

            // not metrics: searchable fields of the log line
            if (tick.Error is { } error)
            {
                json.WriteString("error", error.Length > MaxErrorLength ? error[..MaxErrorLength] : error);
            }

            if (tick.Result is { Errors.Count: > 0 } result)
            {
                json.WriteStartArray("item_errors");
                foreach (var itemError in result.Errors)
                {
                    json.WriteStringValue(itemError.Length > MaxErrorLength ? itemError[..MaxErrorLength] : itemError);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        var line = Encoding.UTF8.GetString(buffer.WrittenSpan);
        lock (gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}
