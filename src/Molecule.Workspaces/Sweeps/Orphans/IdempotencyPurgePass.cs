using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Orphans;

/// <summary>
/// Housekeeping: idempotency records older than <see cref="Retention"/>, a bounded batch per tick. They hold the create's
/// answer, workspace token included, so they must not outlive the window in which a client could still retry.
/// </summary>
internal sealed class IdempotencyPurgePass(OrphanSweepStore store, TimeProvider time)
{
    /// <summary>How long an <c>Idempotency-Key</c> answer is kept for a retrying client: a day.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    public const int BatchSize = 1000;

    public async Task RunAsync(OrphanSweepTally tally, CancellationToken ct) =>
        tally.Add(OrphanCount.IdempotencyKeysPurged, await store.PurgeIdempotencyKeysAsync(time.GetUtcNow() - Retention, BatchSize, ct));
}
