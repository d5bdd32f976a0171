using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// Runs every registered <see cref="ISweep"/> on its own <see cref="SweepScheduler"/> for the host's lifetime
/// (roles <c>all</c> and <c>sweeps</c>). The sweeps are independent: one that is slow or failing never delays another.
/// </summary>
public sealed class SweepHostedService(
    IEnumerable<ISweep> sweeps,
    SweepOptions options,
    SweepMetricsSink metrics,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(sweeps.Select(sweep =>
        {
            var scheduler = new SweepScheduler(sweep, options, metrics, time, loggers.CreateLogger<SweepScheduler>());
            return Task.Run(() => scheduler.RunAsync(stoppingToken), CancellationToken.None);
        }));
}
