using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Orphans;

/// <summary>
/// Row-gone leaks (Karpenter's GC): one provider's boxes tagged for this deployment, listed a page at a time from where
/// the last tick stopped (the cloud's page token, kept in <c>sweep_progress</c>), each page checked against the database
/// and its unowned boxes older than the leak grace terminated, one <c>workspace.instance.leak_reaped</c> each. At most
/// one lap of the list and <see cref="LeaksPerProviderPerTick"/> reaps per tick. A failed list call skips the provider
/// for this tick (nothing is concluded from a partial answer).
/// </summary>
internal sealed class LeakPass(OrphanSweepStore store, LeakReaper reaper, SweepProgressStore progress, DeploymentIdentity deployment,
    SweepOptions options, TimeProvider time, ILogger logger)
{
    public const string PassName = "row_gone_leaks";

    /// <summary>Leaks reaped per provider per tick; more wait for the next lap.</summary>
    public const int LeaksPerProviderPerTick = BatchTerminator.MaxIdsPerCall;

    /// <summary>Terminate calls of one provider's leaks in flight while its list goes on.</summary>
    public const int ReapsInFlight = 4;

    /// <summary>The timeout of one list call.</summary>
    public static readonly TimeSpan ListCallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A cloud's page token does not live forever: one older than this starts the list over. <value>10 min.</value></summary>
    public static readonly TimeSpan PageTokenMaxAge = TimeSpan.FromMinutes(10);

    public async Task RunAsync(IComputeProvider provider, OrphanSweepTally tally, DateTimeOffset stopNewPagesAt, CancellationToken ct)
    {
        var position = await progress.GetAsync(OrphanSweeper.SweepName, PassName, provider.Name, ct);
        var token = position.SavedAt > time.GetUtcNow() - PageTokenMaxAge ? position.ResumeAfter : null;
        var found = 0;
        // a page's terminate runs while the next page is listed: the list is a chain of calls that cannot go faster
        using var reapSlots = new SemaphoreSlim(ReapsInFlight);
        var reaping = new List<Task>();
        try
        {
            while (time.GetUtcNow() < stopNewPagesAt && found < LeaksPerProviderPerTick)
            {
                // The cloud first, then the database (Karpenter's order): every box listed here existed before the
                // ownership read below, so the read sees its owner if it has one. Read the other way round, a box
                // started (and recorded) after the database read would look unowned, and only the grace would stand
                // between it and a terminate.
                var page = await ListPageAsync(provider, token, tally, ct);
                if (page is null)
                {
                    return;
                }

                tally.Add(OrphanCount.InstancesListed, page.Instances.Count);
                var now = time.GetUtcNow();
                var candidates = page.Instances.Where(box => IsLeakCandidate(box, now)).ToList();
                var tagged = candidates.Select(b => (b.InstanceId, LeakReaper.TagGuid(b, ProviderTags.OperationId))).ToList();
                var unowned = await store.UnownedAsync(provider.Name, tagged, now - SweepOptions.AbandonedOperationGrace, ct);
                var leaks = candidates.Where(b => unowned.Contains(b.InstanceId)).Take(LeaksPerProviderPerTick - found).ToList();
                found += leaks.Count;
                if (leaks.Count > 0)
                {
                    await reapSlots.WaitAsync(ct);
                    reaping.Add(ReapAsync(provider, leaks, tally, reapSlots, ct));
                }

                token = page.NextPageToken;
                await progress.SaveAsync(OrphanSweeper.SweepName, PassName, provider.Name, token, CancellationToken.None);
                if (token is null)
                {
                    return; // the end of the list: the next tick starts a new lap
                }
            }
        }
        finally
        {
            await Task.WhenAll(reaping);
        }
    }

    /// <summary>The guards a listed box passes before the database is asked who owns it; each names the case it excludes.</summary>
    private bool IsLeakCandidate(ManagedInstance box, DateTimeOffset now)
    {
        // only this deployment's boxes are ours, whatever a provider's list returns: another stack may share the account
        if (!box.Tags.TryGetValue(ProviderTags.Deployment, out var tagged) || tagged != deployment.Id)
        {
            return false;
        }

        // already going: a terminate would only repeat what the cloud is doing
        if (box.State is InstanceState.ShuttingDown or InstanceState.Terminated or InstanceState.NotFound)
        {
            return false;
        }

        // younger than the grace: an operation may still be between its cloud call and its database write
        return now - box.LaunchedAt >= options.LeakGrace;
    }

    /// <summary>One page of the provider's tagged boxes, or null when the call has no clean answer: then nothing is concluded this tick.</summary>
    private async Task<ManagedInstancePage?> ListPageAsync(IComputeProvider provider, string? token, OrphanSweepTally tally, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(ListCallTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await provider.ListManagedAsync(token, linked.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            tally.Add(OrphanCount.ProvidersSkipped);
            tally.AddError($"{provider.Name}: list failed, provider skipped this tick: {ex.Message}");
            logger.LogWarning(ex, "orphan sweep skipped provider {provider}: its list call failed", provider.Name);
            if (token is not null && ex is ProviderException { IsRetryable: false })
            {
                // the cloud refuses the saved page token itself: the next tick lists from the start
                await progress.SaveAsync(OrphanSweeper.SweepName, PassName, provider.Name, null, CancellationToken.None);
            }

            return null;
        }
    }

    private async Task ReapAsync(IComputeProvider provider, IReadOnlyList<ManagedInstance> leaks, OrphanSweepTally tally, SemaphoreSlim slots, CancellationToken ct)
    {
        try
        {
            await reaper.ReapAsync(provider, leaks, tally, ct);
        }
        finally
        {
            slots.Release();
        }
    }
}
