using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Sweeps;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Sweeps;

/// <summary>The one CloudWatch Embedded Metric Format line each tick writes.</summary>
public sealed class SweepMetricsTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task Each_tick_writes_one_embedded_metric_format_line_that_carries_its_counts()
    {
        await harness.SeedRemovedRowsWithBoxesAsync(3, "sim-east", "metrics");
        var output = new StringWriter();
        var scheduler = new SweepScheduler(harness.NewOrphanSweeper(), new SweepOptions(), new SweepMetricsSink(output, harness.Time, new DeploymentIdentity("tenant-a")),
            harness.Time, NullLogger<SweepScheduler>.Instance);

        var tick = await scheduler.RunTickAsync(CancellationToken.None);

        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var json = JsonNode.Parse(line)!.AsObject();
        var aws = json["_aws"]!.AsObject();
        Assert.Equal(harness.Time.GetUtcNow().ToUnixTimeMilliseconds(), (long)aws["Timestamp"]!);
        var directive = Assert.Single(aws["CloudWatchMetrics"]!.AsArray())!.AsObject();
        Assert.Equal("Molecule", (string?)directive["Namespace"]);
        // the deployment is a dimension: two stacks in one account never share a series
        Assert.Equal("[[\"Deployment\",\"Sweep\"]]", directive["Dimensions"]!.ToJsonString());
        Assert.Equal("tenant-a", (string?)json["Deployment"]);
        Assert.Equal("orphan-sweeper", (string?)json["Sweep"]);

        var metrics = directive["Metrics"]!.AsArray().Select(m => ((string)m!["Name"]!, (string)m["Unit"]!)).ToList();
        // every declared metric has its value on the line, and every count of the tick is declared
        Assert.All(metrics, m => Assert.NotNull(json[m.Item1]?.GetValue<double>()));
        Assert.Equal(tick.Result!.Counts.Select(c => c.Name), metrics.Where(m => m.Item2 == "Count").Select(m => m.Item1).Take(tick.Result.Counts.Count));
        Assert.Contains(("duration_ms", "Milliseconds"), metrics);
        Assert.Equal(3, (int)json["removed_found"]!);
        Assert.Equal(3, (int)json["terminated"]!);
        Assert.Equal(3, (int)json["found"]!);
        Assert.Equal(0, (int)json["failed"]!);
        Assert.Equal(0, (int)json["leaked"]!);
        Assert.Equal(0, (int)json["tick_failed"]!);
        Assert.Equal(0, (int)json["budget_exhausted"]!);
        Assert.True((double)json["duration_ms"]! >= 0);
    }
}
