using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// One provider's share of one liveness pass: its unclaimed online rows in id order from where the last tick stopped
/// (<c>sweep_progress</c>), round to that point again at most; one describe per page of ids, with
/// <see cref="ReconcilerSettings.DescribeConcurrency"/> in flight; each page judged as soon as its answer is in
/// (<see cref="LivenessJudgement"/>). A describe error leaves its page alone; an unexpected exception on a page is logged
/// and counted and the walk goes on. The resume point only moves past pages that are done, so a tick cut short repeats
/// at most the pages in flight.
/// </summary>
internal sealed class ProviderLivenessWalk
{
    public const string PassName = "liveness";

    private readonly string provider;
    private readonly ReconcilerStore store;
    private readonly SweepProgressStore progress;
    private readonly ReconcilerSettings settings;
    private readonly ReconcileCounts counts;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly ProviderDescriber describer;
    private readonly LivenessJudgement judgement;
    private readonly ReconfirmQueue? reconfirm;
    private readonly SemaphoreSlim slots;
    private readonly KeysetWatermark watermark = new();
    private readonly SemaphoreSlim saving = new(1);
    private long savedAdvance;

    public ProviderLivenessWalk(IComputeProvider provider, ReconcilerStore store, SweepProgressStore progress, EventStore events, SuspectMemory suspects,
        ReconcilerSettings settings, ReconcileCounts counts, TimeProvider time, ILogger logger)
    {
        (this.provider, this.store, this.progress, this.settings, this.counts, this.time, this.logger) =
            (provider.Name, store, progress, settings, counts, time, logger);
        slots = new SemaphoreSlim(settings.DescribeConcurrency);
        describer = new ProviderDescriber(provider, settings, counts, time, logger);
        judgement = new LivenessJudgement(store, events, suspects, settings, counts, time, logger, provider.Name);
        reconfirm = settings.ReconfirmWithinTick ? new ReconfirmQueue(describer, slots, suspects, settings, counts, time, logger) : null;
    }

    public string ProviderName => provider;

    public bool Braked => judgement.Braked;

    /// <summary>Walks until the list is done or <paramref name="stopNewPagesAt"/> passes; returns once every page started is settled.</summary>
    public async Task RunAsync(DateTimeOffset stopNewPagesAt, CancellationToken ct)
    {
        var resumeAfter = (await progress.GetAsync(InstanceReconciler.SweepName, PassName, provider, ct)).ResumeAfter;
        var cursor = new OnlineRowCursor(store, provider, settings, time, Guid.TryParse(resumeAfter, out var id) ? id : null);
        var reconfirming = reconfirm?.RunAsync(judgement.MarkDeadAsync, ct) ?? Task.CompletedTask;
        var pages = new List<Task>();
        try
        {
            while (true)
            {
                await slots.WaitAsync(ct);
                var page = time.GetUtcNow() < stopNewPagesAt ? await cursor.NextAsync(ct) : null;
                if (page is not { Rows: var rows, ResumeAfter: var next })
                {
                    slots.Release();
                    break;
                }

                pages.Add(CheckPageAsync(new Page(rows, watermark.Register(next)), ct));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the budget ran out: what is in flight settles below, nothing new starts
        }

        await Task.WhenAll(pages);
        reconfirm?.Complete();
        await reconfirming;
    }

    private async Task CheckPageAsync(Page page, CancellationToken ct)
    {
        try
        {
            var states = page.Rows.Count == 0 ? null : await describer.DescribeAsync(page.Rows.Select(r => r.InstanceId).ToList(), ct);
            if (states is not null)
            {
                await judgement.JudgeAsync(page.Rows, states, reconfirm, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // not done: the resume point stays before this page
            return;
        }
        catch (Exception ex)
        {
            counts.Add(ReconcileCount.Errors);
            logger.LogError(ex, "liveness check of {count} rows on {provider} failed unexpectedly; the walk goes on", page.Rows.Count, provider);
        }
        finally
        {
            slots.Release();
        }

        await SaveProgressAsync(page.Sequence);
    }

    /// <summary>Moves the stored resume point past every page that is done (whatever the budget says now: the work is done).</summary>
    private async Task SaveProgressAsync(long sequence)
    {
        if (!watermark.Complete(sequence, out var resumeAfter, out var advance))
        {
            return;
        }

        await saving.WaitAsync(CancellationToken.None);
        try
        {
            if (advance > savedAdvance)
            {
                await progress.SaveAsync(InstanceReconciler.SweepName, PassName, provider, resumeAfter, CancellationToken.None);
                savedAdvance = advance;
            }
        }
        finally
        {
            saving.Release();
        }
    }

    private sealed record Page(IReadOnlyList<OnlineRow> Rows, long Sequence);
}
