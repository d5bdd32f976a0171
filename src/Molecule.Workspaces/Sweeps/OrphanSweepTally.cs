using Molecule.Workspaces.Providers;

namespace Molecule.Workspaces.Sweeps;

/// <summary>The counts of one orphan-sweeper tick (safe to add to from the providers swept side by side).</summary>
public enum OrphanCount
{
    RemovedFound,
    RemovedTerminated,
    RemovedCleared,
    RemovedFailed,
    ExternalSkipped,
    PendingDue,
    PendingTerminated,
    PendingFailed,
    PendingPostponed,
    InstancesListed,
    LeaksFound,
    Leaked,
    LeakFailed,
    ProvidersSkipped,
    PartsFailed,
    IdempotencyKeysPurged,
}

/// <summary>The counts and combined item errors (the first few; the counts stay exact) of one orphan-sweeper tick.</summary>
public sealed class OrphanSweepTally : SweepCounter<OrphanCount>
{
    /// <summary>Item errors kept in the result and the log line.</summary>
    public const int ReportedErrors = 20;

    private readonly List<string> errors = [];

    public int Failed => this[OrphanCount.RemovedFailed] + this[OrphanCount.PendingFailed] + this[OrphanCount.LeakFailed];

    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (errors)
            {
                return errors.ToList();
            }
        }
    }

    public void AddError(string error)
    {
        lock (errors)
        {
            if (errors.Count < ReportedErrors)
            {
                errors.Add(error);
            }
        }
    }

    /// <summary>Adds the error of every box that is still running, and how many there were to <paramref name="count"/>.</summary>
    public void RecordFailures(IReadOnlyList<BoxTermination> results, OrphanCount count)
    {
        var failed = 0;
        foreach (var result in results.Where(r => !r.Terminated))
        {
            failed++;
            AddError($"{result.Box.Provider}/{result.Box.InstanceId}" +
                (result.Box.WorkspaceId is { } id ? $" (workspace {id})" : "") + $": {result.Error}");
        }

        Add(count, failed);
    }

    public SweepResult ToResult(bool budgetExhausted, bool skipped = false) => new(
    [
        new("found", this[OrphanCount.RemovedFound] - this[OrphanCount.ExternalSkipped] + this[OrphanCount.PendingDue] + this[OrphanCount.LeaksFound]),
        new("terminated", this[OrphanCount.RemovedTerminated] + this[OrphanCount.PendingTerminated] + this[OrphanCount.Leaked]),
        new("failed", Failed),
        new("leaked", this[OrphanCount.Leaked]),
        new("idempotency_keys_purged", this[OrphanCount.IdempotencyKeysPurged]),
        new("removed_found", this[OrphanCount.RemovedFound]),
        new("removed_terminated", this[OrphanCount.RemovedTerminated]),
        new("removed_cleared", this[OrphanCount.RemovedCleared]),
        new("removed_failed", this[OrphanCount.RemovedFailed]),
        new("external_skipped", this[OrphanCount.ExternalSkipped]),
        new("pending_due", this[OrphanCount.PendingDue]),
        new("pending_terminated", this[OrphanCount.PendingTerminated]),
        new("pending_failed", this[OrphanCount.PendingFailed]),
        new("pending_postponed", this[OrphanCount.PendingPostponed]),
        new("instances_listed", this[OrphanCount.InstancesListed]),
        new("leaks_found", this[OrphanCount.LeaksFound]),
        new("leak_failed", this[OrphanCount.LeakFailed]),
        new("providers_skipped", this[OrphanCount.ProvidersSkipped]),
        new("parts_failed", this[OrphanCount.PartsFailed]),
        new("skipped", skipped ? 1 : 0),
    ], Errors, budgetExhausted);
}
