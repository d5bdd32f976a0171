namespace Molecule.Workspaces.Sweeps;

/// <summary>The counts of one reconciler tick; each is a metric of its metrics line (its name in snake_case, in this order). Safe to add to from parallel pages.</summary>
public enum ReconcileCount
{
    Checked,
    DescribeCalls,
    ProviderErrors,
    Dead,
    MarkedOffline,
    Braked,
    Healed,
    HealBudgetExhausted,
    ExpiredClaims,
    Redispatched,
    AbandonedOperations,
    Errors,
}

/// <summary>What one reconciler tick saw and did.</summary>
public sealed class ReconcileCounts : SweepCounter<ReconcileCount>
{
    public int Checked => this[ReconcileCount.Checked];
    public int DescribeCalls => this[ReconcileCount.DescribeCalls];
    public int ProviderErrors => this[ReconcileCount.ProviderErrors];
    public int Dead => this[ReconcileCount.Dead];
    public int MarkedOffline => this[ReconcileCount.MarkedOffline];
    public int Braked => this[ReconcileCount.Braked];
    public int Healed => this[ReconcileCount.Healed];
    public int BudgetExhausted => this[ReconcileCount.HealBudgetExhausted];
    public int ExpiredClaims => this[ReconcileCount.ExpiredClaims];
    public int Redispatched => this[ReconcileCount.Redispatched];

    /// <summary>Unexpected exceptions caught on a page, a row or a pass (each logged); the tick went on.</summary>
    public int Errors => this[ReconcileCount.Errors];

    /// <summary>Another process held the reconciler's lock: this tick did nothing.</summary>
    public bool Skipped { get; init; }

    /// <summary>The tick's budget ran out (or its lock was lost) before its work did.</summary>
    public bool OutOfTime { get; set; }

    /// <summary>
    /// Acts on each item on its own: an unexpected failure is counted as an error and logged, and the next item still
    /// runs; the tick's token ending is no failure and ends the loop.
    /// </summary>
    internal async Task EachAsync<T>(IEnumerable<T> items, Func<T, Task> act, Action<T, Exception> logFailure, CancellationToken ct)
    {
        foreach (var item in items)
        {
            try
            {
                await act(item);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                Add(ReconcileCount.Errors);
                logFailure(item, ex);
            }
        }
    }

    public SweepResult ToResult() => new(
        [.. AllCounts(), new SweepCount("skipped", Skipped ? 1 : 0)],
        [],
        BudgetExhausted: OutOfTime);
}
