using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Molecule.Workspaces.Sweeps.Orphans;
using Npgsql;

namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// The orphan sweeper (DESIGN §7): no box outlives the rows that owned it. Each tick, under the sweep's advisory lock
/// (another process holding it → the tick is skipped and says so), every provider is swept on its own and at once, so
/// one slow or failing provider holds up only itself: its removed rows that still name a box
/// (<see cref="RemovedRowsPass"/>), then its due queued boxes (<see cref="PendingTerminationPass"/>), then its row-gone
/// leaks (<see cref="LeakPass"/>); beside them, old idempotency answers are purged (<see cref="IdempotencyPurgePass"/>).
/// Never touches a <c>runtime = 'external'</c> row, nor a box that a row, an active operation or the queue owns. Acts
/// on clean answers only. The paged passes resume where the last tick stopped (kept in Postgres) and start no new
/// page past <see cref="NewPagesShareOfBudget"/> of the budget; one result per item, errors combined at the end, and
/// an unexpected failure of one pass is logged and counted while the others go on.
/// </summary>
public sealed class OrphanSweeper : ISweep
{
    public const string SweepName = "orphan-sweeper";

    /// <summary>No new page starts past this share of the tick's budget, so the calls in flight end inside it.</summary>
    public const double NewPagesShareOfBudget = 0.75;

    private readonly ProviderRegistry providers;
    private readonly SweepOptions options;
    private readonly ILogger logger;
    private readonly SweepLockStore locks;
    private readonly RemovedRowsPass removedRows;
    private readonly PendingTerminationPass queue;
    private readonly LeakPass leaks;
    private readonly IdempotencyPurgePass idempotencyPurge;

    public OrphanSweeper(NpgsqlDataSource db, WorkspaceStore workspaces, PendingTerminationStore pendingTerminations, EventStore events,
        ProviderRegistry providers, BatchTerminator terminator, DeploymentIdentity deployment, SweepOptions options, TimeProvider time,
        ILogger<OrphanSweeper> logger)
    {
        this.providers = providers;
        this.options = options;
        this.logger = logger;
        var store = new OrphanSweepStore(db, time);
        var progress = new SweepProgressStore(db, time);
        locks = new SweepLockStore(db, time, logger);
        removedRows = new RemovedRowsPass(store, workspaces, terminator, progress, time);
        queue = new PendingTerminationPass(db, pendingTerminations, store, terminator, time);
        leaks = new LeakPass(store, new LeakReaper(terminator, events, logger), progress, deployment, options, time, logger);
        idempotencyPurge = new IdempotencyPurgePass(store, time);
    }

    public string Name => SweepName;

    public async Task<SweepResult> RunOnceAsync(CancellationToken ct)
    {
        var tally = new OrphanSweepTally();
        await using var tick = await locks.OpenTickAsync(SweepName, options.TickBudget * NewPagesShareOfBudget, ct);
        if (!tick.Opened)
        {
            return tally.ToResult(budgetExhausted: tick.OutOfTime, skipped: tick.Skipped);
        }

        await Task.WhenAll(providers.All
            .Select(provider => SweepProviderAsync(provider, tally, tick.StopNewPagesAt, tick.Token))
            .Append(RunPassAsync("idempotency_keys", null, tally, () => idempotencyPurge.RunAsync(tally, tick.Token), tick.Token)));

        if (tally.Failed > 0 || tally[OrphanCount.PartsFailed] > 0)
        {
            logger.LogWarning("orphan sweep: {failed} items failed, {parts} parts failed: {errors}",
                tally.Failed, tally[OrphanCount.PartsFailed], string.Join("; ", tally.Errors));
        }

        return tally.ToResult(budgetExhausted: tick.Token.IsCancellationRequested);
    }

    /// <summary>One provider's passes, in order; each one's failure is its own.</summary>
    private async Task SweepProviderAsync(IComputeProvider provider, OrphanSweepTally tally, DateTimeOffset stopNewPagesAt, CancellationToken ct)
    {
        await RunPassAsync(RemovedRowsPass.PassName, provider, tally, () => removedRows.RunAsync(provider, tally, stopNewPagesAt, ct), ct);
        await RunPassAsync("pending_terminations", provider, tally, () => queue.RunAsync(provider, tally, ct), ct);
        await RunPassAsync(LeakPass.PassName, provider, tally, () => leaks.RunAsync(provider, tally, stopNewPagesAt, ct), ct);
    }

    private Task RunPassAsync(string pass, IComputeProvider? provider, OrphanSweepTally tally, Func<Task> run, CancellationToken ct)
    {
        var part = provider is null ? pass : $"{pass} ({provider.Name})";
        return SweepPass.RunAsync(
            run,
            ex =>
            {
                tally.Add(OrphanCount.PartsFailed);
                tally.AddError($"{part}: {ex.Message}");
                logger.LogError(ex, "orphan sweep part {part} failed; the other parts still run", part);
            },
            () => logger.LogWarning("orphan sweep stopped in {part}: the tick's budget ran out", part),
            ct);
    }
}
