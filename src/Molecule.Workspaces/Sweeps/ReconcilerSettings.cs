namespace Molecule.Workspaces.Sweeps;

/// <summary>The reconciler's knobs, from <c>Molecule:Sweeps</c> plus two fixed waits.</summary>
/// <param name="Grace">How long an online row must be unchanged before it is checked (ReconcileGraceSeconds, 120 s).</param>
/// <param name="Observe">ReconcilerMode = observe: record the liveness decisions (mark offline, heal), take none.</param>
/// <param name="ReconfirmDelay">The wait before the second describe. <value>5 s.</value></param>
/// <param name="CallTimeout">The timeout of one describe call. <value>30 s.</value></param>
/// <param name="ReconfirmWithinTick">Wait for the second describe inside the tick (the tick's budget is long enough);
/// otherwise the next visit confirms.</param>
public sealed record ReconcilerSettings(TimeSpan Grace, bool Observe, TimeSpan ReconfirmDelay, TimeSpan CallTimeout, bool ReconfirmWithinTick = true)
{
    /// <summary>DESIGN §7: the second describe at least 5 s after the first.</summary>
    public static readonly TimeSpan DefaultReconfirmDelay = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Describe calls in flight per provider (DescribeConcurrency). <value>The default is 8.</value></summary>
    public int DescribeConcurrency { get; init; } = SweepOptions.DefaultDescribeConcurrency;

    /// <summary>Rows read per page, and ids per describe call. <value>1000, EC2's most per call.</value></summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>The tick's budget; the liveness pass starts no new page past <see cref="InstanceReconciler.LivenessShareOfBudget"/> of it.
    /// <value>The default is 48 s (80 % of 60 s).</value></summary>
    public TimeSpan TickBudget { get; init; } = new SweepOptions().TickBudget;

    public static ReconcilerSettings From(SweepOptions options) =>
        new(options.ReconcileGrace, options.ReconcilerObservesOnly, DefaultReconfirmDelay, DefaultCallTimeout,
            ReconfirmWithinTick: options.TickBudget >= 2 * DefaultReconfirmDelay)
        {
            DescribeConcurrency = options.DescribeConcurrency,
            TickBudget = options.TickBudget,
        };
}
