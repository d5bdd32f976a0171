using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Molecule.Workspaces.Sweeps.Reconciler;
using Npgsql;

namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// Keeps <c>online</c> honest and nothing stranded (DESIGN §7). Each tick, under the sweep's advisory lock (another
/// process holding it → the tick is skipped and says so), runs its passes in order, each on its own — an unexpected
/// failure in one is logged and counted and the next still runs:
/// expired claims compensated (<see cref="ExpiredClaimPass"/>), lost hand-offs repaired (<see cref="OutboxRepairPass"/>),
/// operations that lost their claim and whose walk died (<see cref="AbandonedOperationPass"/>) — all three in both
/// modes —, then the liveness decisions, which observe mode only records: online rows checked against every provider
/// at once, marked offline on a re-confirmed "not running" behind the mass-failure brake (<see cref="LivenessPass"/>),
/// and offline rows healed within their budget (<see cref="HealPass"/>). Never touches claimed, external, paused or
/// removed rows; treats any provider error as "unknown", never "dead".
/// </summary>
public sealed class InstanceReconciler : ISweep
{
    public const string SweepName = "instance-reconciler";

    /// <summary>The liveness pass starts no new page past this share of the tick's budget: the rest is for its re-confirms and the heals.</summary>
    public const double LivenessShareOfBudget = 0.7;

    private static readonly IReadOnlySet<string> NoProviders = new HashSet<string>();

    private readonly ReconcilerSettings settings;
    private readonly ILogger logger;
    private readonly SweepLockStore locks;
    private readonly ExpiredClaimPass expiredClaims;
    private readonly OutboxRepairPass outbox;
    private readonly AbandonedOperationPass abandoned;
    private readonly LivenessPass liveness;
    private readonly HealPass heals;

    public InstanceReconciler(NpgsqlDataSource db, ProviderRegistry providers, OperationStarter starter, OperationCompensation compensation,
        EventStore events, IOperationDispatcher dispatcher, ReconcilerSettings settings, TimeProvider time, ILogger<InstanceReconciler> logger)
    {
        this.settings = settings;
        this.logger = logger;
        var store = new ReconcilerStore(db, time);
        locks = new SweepLockStore(db, time, logger);
        expiredClaims = new ExpiredClaimPass(store, compensation, settings.PageSize, logger);
        outbox = new OutboxRepairPass(store, dispatcher, time, settings.PageSize, logger);
        abandoned = new AbandonedOperationPass(store, time, settings.PageSize, logger);
        // in memory, kept across ticks: where each suspect was first seen "not running"
        liveness = new LivenessPass(store, new SweepProgressStore(db, time), providers, events, new SuspectMemory(), settings, time, logger);
        heals = new HealPass(store, starter, events, settings, logger);
    }

    public string Name => SweepName;

    public async Task<SweepResult> RunOnceAsync(CancellationToken ct) => (await ReconcileAsync(ct)).ToResult();

    /// <summary>One tick, with its counts: what <see cref="RunOnceAsync"/> reports as metrics.</summary>
    public async Task<ReconcileCounts> ReconcileAsync(CancellationToken ct)
    {
        await using var tick = await locks.OpenTickAsync(SweepName, settings.TickBudget * LivenessShareOfBudget, ct);
        if (!tick.Opened)
        {
            return new ReconcileCounts { OutOfTime = tick.OutOfTime, Skipped = tick.Skipped };
        }

        var counts = new ReconcileCounts();
        var braked = NoProviders;
        await RunPassAsync("expired_claims", counts, () => expiredClaims.RunAsync(counts, tick.Token), tick.Token);
        await RunPassAsync("outbox_repair", counts, () => outbox.RunAsync(counts, tick.Token), tick.Token);
        await RunPassAsync("abandoned_operations", counts, () => abandoned.RunAsync(counts, tick.Token), tick.Token);
        await RunPassAsync("liveness", counts, async () => braked = await liveness.RunAsync(counts, tick.StopNewPagesAt, tick.Token), tick.Token);
        await RunPassAsync("heal", counts, () => heals.RunAsync(counts, braked, tick.Token), tick.Token);
        counts.OutOfTime = tick.Token.IsCancellationRequested;
        return counts;
    }

    private Task RunPassAsync(string pass, ReconcileCounts counts, Func<Task> run, CancellationToken ct) =>
        SweepPass.RunAsync(
            run,
            ex =>
            {
                counts.Add(ReconcileCount.Errors);
                logger.LogError(ex, "{sweep} pass {pass} failed; the other passes still run", SweepName, pass);
            },
            null,
            ct);
}
