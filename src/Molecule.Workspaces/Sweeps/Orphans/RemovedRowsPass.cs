using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Orphans;

/// <summary>
/// Removed rows that still name a box (a delete whose terminate was exhausted): one provider's, in keyset pages from
/// where the last tick stopped (so rows whose terminate keeps failing never starve the rows after them), one terminate
/// call per page, at most <see cref="PagesPerTick"/> pages. A confirmed box is forgotten only where the row still names
/// that very box. External rows are never touched.
/// </summary>
internal sealed class RemovedRowsPass(OrphanSweepStore store, WorkspaceStore workspaces, BatchTerminator terminator, SweepProgressStore progress, TimeProvider time)
{
    public const string PassName = "removed_rows";

    /// <summary>Removed rows read per page: one terminate call's worth.</summary>
    public const int PageSize = BatchTerminator.MaxIdsPerCall;

    /// <summary>Pages per provider per tick; the next tick resumes where this one stopped.</summary>
    public const int PagesPerTick = 10;

    public async Task RunAsync(IComputeProvider provider, OrphanSweepTally tally, DateTimeOffset stopNewPagesAt, CancellationToken ct)
    {
        var resumeAfter = (await progress.GetAsync(OrphanSweeper.SweepName, PassName, provider.Name, ct)).ResumeAfter;
        var after = Guid.TryParse(resumeAfter, out var id) ? id : (Guid?)null;
        for (var page = 0; page < PagesPerTick && time.GetUtcNow() < stopNewPagesAt; page++)
        {
            ct.ThrowIfCancellationRequested();
            var rows = await store.ListRemovedWithBoxAsync(provider.Name, after, PageSize, ct);
            tally.Add(OrphanCount.RemovedFound, rows.Count);
            var owned = rows.Where(r => !r.External).Select(r => r.Box).ToList();
            tally.Add(OrphanCount.ExternalSkipped, rows.Count - owned.Count);

            var results = await terminator.TerminateAsync(owned, ct);
            var terminated = results.Where(r => r.Terminated).Select(r => r.Box).ToList();

            // the cloud confirmed these: record it even if the budget runs out now, or the next tick repeats the calls
            tally.Add(OrphanCount.RemovedCleared, await workspaces.ClearTerminatedBoxesAsync(terminated, CancellationToken.None));
            await store.AppendTerminatedEventsAsync(terminated, "workspace_removed", CancellationToken.None);
            tally.Add(OrphanCount.RemovedTerminated, terminated.Count);
            tally.RecordFailures(results, OrphanCount.RemovedFailed);

            // at the end of the rows the next tick starts from the first again
            after = rows.Count == PageSize ? rows[^1].Box.WorkspaceId : null;
            await progress.SaveAsync(OrphanSweeper.SweepName, PassName, provider.Name, after?.ToString(), CancellationToken.None);
            if (after is null)
            {
                return;
            }
        }
    }
}
