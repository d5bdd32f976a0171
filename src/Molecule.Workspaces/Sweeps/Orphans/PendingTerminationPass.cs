using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Npgsql;

namespace Molecule.Workspaces.Sweeps.Orphans;

/// <summary>
/// One provider's queued boxes (<c>pending_terminations</c>) whose time has come, one page per tick: confirmed ones leave
/// the queue, failed ones back off per row (1 min ×2, at most 1 h). The list statement itself skips (and puts back) any
/// box a live row names: the queue never kills a box under its row.
/// </summary>
internal sealed class PendingTerminationPass(NpgsqlDataSource db, PendingTerminationStore queue, OrphanSweepStore store, BatchTerminator terminator, TimeProvider time)
{
    /// <summary>Due rows drained per provider per tick.</summary>
    public const int PageSize = BatchTerminator.MaxIdsPerCall;

    /// <summary>When a queued box whose terminate failed is tried again: 1 min after the first failure, ×2, at most 1 h.</summary>
    public static readonly RetrySchedule Backoff = new(TimeSpan.FromMinutes(1), int.MaxValue, TimeSpan.FromHours(1));

    public async Task RunAsync(IComputeProvider provider, OrphanSweepTally tally, CancellationToken ct)
    {
        DuePage page;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            page = await queue.ListDueAsync(conn, provider.Name, PageSize, ct);
        }

        tally.Add(OrphanCount.PendingDue, page.Due.Count);
        tally.Add(OrphanCount.PendingPostponed, page.Postponed);
        if (page.Due.Count == 0)
        {
            return;
        }

        // (provider, instance_id) is unique in the queue, so each box maps back to exactly one row
        var rowOf = page.Due.ToDictionary(p => p.Box);
        var results = await terminator.TerminateAsync(rowOf.Keys, ct);
        var now = time.GetUtcNow();
        var terminated = results.Where(r => r.Terminated).Select(r => rowOf[r.Box]).ToList();
        var failures = results.Where(r => !r.Terminated)
            .Select(r => new PendingTerminationFailure(rowOf[r.Box].Id, r.Error!, now + Backoff.DelayAfter(rowOf[r.Box].Attempts + 1)))
            .ToList();

        // the cloud answered: record it whatever the budget says now (no connection is held across the cloud call)
        await using (var conn = await db.OpenConnectionAsync(CancellationToken.None))
        {
            await queue.DeleteAsync(conn, terminated.Select(p => p.Id).ToList(), CancellationToken.None);
            await queue.RecordFailuresAsync(conn, failures, CancellationToken.None);
        }

        foreach (var byReason in terminated.GroupBy(p => p.Reason))
        {
            await store.AppendTerminatedEventsAsync(byReason.Select(p => p.Box).ToList(), byReason.Key, CancellationToken.None);
        }

        tally.Add(OrphanCount.PendingTerminated, terminated.Count);
        tally.RecordFailures(results, OrphanCount.PendingFailed);
    }
}
