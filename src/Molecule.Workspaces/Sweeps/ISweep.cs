namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// A periodic repair pass (DESIGN §7): the orphan sweeper, the instance reconciler. It only runs one bounded tick;
/// when and how often is the <see cref="SweepScheduler"/>'s job, so tests call <see cref="RunOnceAsync"/> directly.
/// </summary>
public interface ISweep
{
    /// <summary>The stable name of the sweep (<c>orphan-sweeper</c>): the <c>Sweep</c> dimension of its metrics and its log key.</summary>
    string Name { get; }

    /// <summary>
    /// One tick. Idempotent, bounded, and safe to cut short: when <paramref name="ct"/> fires (the tick's budget ran
    /// out) the sweep stops taking new work and returns what it did, with <see cref="SweepResult.BudgetExhausted"/> set.
    /// </summary>
    Task<SweepResult> RunOnceAsync(CancellationToken ct);
}
