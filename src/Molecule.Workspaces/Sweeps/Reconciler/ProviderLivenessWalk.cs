using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// One provider's share of one liveness pass: its unclaimed online rows in id order, from where the last tick stopped
/// (in <c>sweep_progress</c>) round to it again at most; one describe of a page of ids per call, with
/// <see cref="ReconcilerSettings.DescribeConcurrency"/> calls in flight; each page acted on as soon as its answer is
/// in. A "not running" first seen at least the re-confirm delay ago is confirmed by this answer; a new one is asked
/// again after the delay (batched) and only then marked. Any describe error leaves its page alone (fail-safe); an
/// unexpected exception on a page is logged and counted and the walk goes on. The resume point only ever moves past
/// pages that are done, so a tick cut short repeats at most the pages in flight.
/// </summary>
internal sealed class ProviderLivenessWalk(
    IComputeProvider provider,
    ReconcilerStore store,
    SweepProgressStore progress,
    EventStore events,
    SuspectMemory suspects,
    ReconcilerSettings settings,
    ReconcileCounts counts,
    TimeProvider time,
    ILogger logger)
{
    public const string PassName = "liveness";

    private readonly MassFailureBrake brake = new();
    private readonly KeysetWatermark watermark = new();
    private readonly SemaphoreSlim slots = new(settings.DescribeConcurrency);
    private readonly SemaphoreSlim saving = new(1);
    private readonly Channel<Suspect> reconfirm = Channel.CreateUnbounded<Suspect>(new UnboundedChannelOptions { SingleReader = true });
    private long savedAdvance;

    // the keyset cursor: rows after `after` up to `upTo` (null: to the end); past the end it wraps once to the start
    // and stops at the row this tick began after, so a tick walks one lap at most
    private Guid? after;
    private Guid? upTo;
    private Guid? wrapAt;
    private bool listDone;

    public string ProviderName => provider.Name;

    public bool Braked => brake.Tripped;

    /// <summary>Walks until the list is done or <paramref name="stopNewPagesAt"/> passes; returns once every page started is settled.</summary>
    public async Task RunAsync(DateTimeOffset stopNewPagesAt, CancellationToken ct)
    {
        var resumeAfter = (await progress.GetAsync(InstanceReconciler.SweepName, PassName, provider.Name, ct)).ResumeAfter;
        after = wrapAt = Guid.TryParse(resumeAfter, out var id) ? id : null;

        var reconfirming = settings.ReconfirmWithinTick ? ReconfirmAsync(ct) : Task.CompletedTask;
        var pages = new List<Task>();
        try
        {
            while (true)
            {
                await slots.WaitAsync(ct);
                var page = time.GetUtcNow() < stopNewPagesAt ? await NextPageAsync(ct) : null;
                if (page is null)
                {
                    slots.Release();
                    break;
                }

                pages.Add(CheckPageAsync(page, ct));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the budget ran out: what is in flight settles below, nothing new starts
        }

        await Task.WhenAll(pages);
        reconfirm.Writer.TryComplete();
        await reconfirming;
    }

    private async Task<Page?> NextPageAsync(CancellationToken ct)
    {
        if (listDone)
        {
            return null;
        }

        var rows = await store.ListOnlinePageAsync(provider.Name, after, upTo, time.GetUtcNow() - settings.Grace, settings.PageSize, ct);
        var resumeAfter = rows.Count > 0 ? rows[^1].Id.ToString() : after?.ToString();
        if (rows.Count == settings.PageSize)
        {
            after = rows[^1].Id;
        }
        else if (upTo is null)
        {
            // the end of the keyset: the next tick starts from the first row, and this one wraps to it if it began mid-way
            resumeAfter = null;
            (after, upTo, listDone) = (null, wrapAt, wrapAt is null);
        }
        else
        {
            listDone = true;
        }

        return new Page(rows, watermark.Register(resumeAfter));
    }

    private async Task CheckPageAsync(Page page, CancellationToken ct)
    {
        try
        {
            var states = page.Rows.Count == 0 ? null : await DescribeAsync(page.Rows.Select(r => r.InstanceId).ToList(), ct);
            if (states is not null)
            {
                await ActOnAnswersAsync(page.Rows, states, ct);
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
            logger.LogError(ex, "liveness check of {count} rows on {provider} failed unexpectedly; the walk goes on", page.Rows.Count, provider.Name);
        }
        finally
        {
            slots.Release();
        }

        await SaveProgressAsync(page.Sequence);
    }

    private async Task ActOnAnswersAsync(IReadOnlyList<OnlineRow> rows, IReadOnlyDictionary<string, InstanceState> states, CancellationToken ct)
    {
        counts.Add(ReconcileCount.Checked, rows.Count);
        var lookingDead = new List<(OnlineRow Row, InstanceState State)>();
        foreach (var row in rows)
        {
            if (!states.TryGetValue(row.InstanceId, out var state))
            {
                continue;
            }

            if (state.IsNotRunning())
            {
                lookingDead.Add((row, state));
            }
            else
            {
                suspects.Forget(row.Key);
            }
        }

        if (brake.Record(rows.Count, lookingDead.Count, out var checkedSoFar, out var deadSoFar))
        {
            await RecordBrakeAsync(checkedSoFar, deadSoFar, ct);
        }

        // one "not running" is not enough: boxes flicker through describe lag and API hiccups. Seen at least the
        // re-confirm delay ago (an earlier tick) → confirmed now; seen just now → asked again after the delay
        var now = time.GetUtcNow();
        var confirmed = new List<(OnlineRow Row, InstanceState State)>();
        foreach (var (row, state) in lookingDead)
        {
            var firstSeen = suspects.FirstSeen(row.Key, now);
            if (now - firstSeen >= settings.ReconfirmDelay)
            {
                confirmed.Add((row, state));
            }
            else if (settings.ReconfirmWithinTick && !brake.Tripped)
            {
                reconfirm.Writer.TryWrite(new Suspect(row, firstSeen + settings.ReconfirmDelay));
            }
        }

        await MarkDeadAsync(brake.Tripped ? lookingDead : confirmed, ct);
    }

    /// <summary>Fresh suspects, batched as they fall due: a second describe, and only a second "not running" marks.</summary>
    private async Task ReconfirmAsync(CancellationToken ct)
    {
        try
        {
            while (await reconfirm.Reader.WaitToReadAsync(ct))
            {
                if (reconfirm.Reader.TryPeek(out var first) && first.DueAt > time.GetUtcNow())
                {
                    await Task.Delay(first.DueAt - time.GetUtcNow(), time, ct);
                }

                var batch = new List<Suspect>();
                while (batch.Count < settings.PageSize && reconfirm.Reader.TryPeek(out var next) && next.DueAt <= time.GetUtcNow()
                       && reconfirm.Reader.TryRead(out next))
                {
                    batch.Add(next);
                }

                await ReconfirmBatchAsync(batch, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the rest stay remembered: their next visit confirms them
        }
    }

    private async Task ReconfirmBatchAsync(IReadOnlyList<Suspect> batch, CancellationToken ct)
    {
        try
        {
            await slots.WaitAsync(ct);
            IReadOnlyDictionary<string, InstanceState>? states;
            try
            {
                states = await DescribeAsync(batch.Select(s => s.Row.InstanceId).ToList(), ct);
            }
            finally
            {
                slots.Release();
            }

            var confirmed = new List<(OnlineRow Row, InstanceState State)>();
            foreach (var suspect in batch)
            {
                if (states?.GetValueOrDefault(suspect.Row.InstanceId) is { } state && state.IsNotRunning())
                {
                    confirmed.Add((suspect.Row, state));
                }
                else if (states is not null)
                {
                    suspects.Forget(suspect.Row.Key);
                }
            }

            await MarkDeadAsync(confirmed, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            counts.Add(ReconcileCount.Errors);
            logger.LogError(ex, "re-confirming {count} suspects on {provider} failed unexpectedly; their next visit confirms them", batch.Count, provider.Name);
        }
    }

    /// <summary>Confirmed dead: marked offline — unless the brake has tripped (then left online) or in observe mode (then recorded).</summary>
    private async Task MarkDeadAsync(IReadOnlyList<(OnlineRow Row, InstanceState State)> dead, CancellationToken ct)
    {
        if (dead.Count == 0)
        {
            return;
        }

        if (brake.Tripped)
        {
            counts.Add(ReconcileCount.Braked, dead.Count);
            return;
        }

        counts.Add(ReconcileCount.Dead, dead.Count);
        if (settings.Observe)
        {
            foreach (var (row, state) in dead)
            {
                await events.AppendObservedAsync(row.Id, "mark_offline",
                    new JsonObject { ["instance_id"] = row.InstanceId, ["provider"] = row.Provider, ["state"] = state.ToWire() }, ct);
            }

            return;
        }

        var flipped = (await store.MarkLostAsync(dead, ct)).ToHashSet();
        counts.Add(ReconcileCount.MarkedOffline, flipped.Count);
        foreach (var (row, state) in dead)
        {
            suspects.Forget(row.Key);
            if (flipped.Contains(row.Id))
            {
                logger.LogWarning("workspace {workspace_id} lost its box {instance_id} ({state}); marked offline", row.Id, row.InstanceId, state.ToWire());
            }
        }
    }

    private async Task RecordBrakeAsync(int checkedSoFar, int deadSoFar, CancellationToken ct)
    {
        logger.LogError("{dead} of {checked} boxes checked on {provider} look dead; suspecting a provider outage, marking and healing none of it this tick",
            deadSoFar, checkedSoFar, provider.Name);
        await events.AppendAsync(null, null, EventTypes.MassFailureSuspected, new JsonObject
        {
            ["provider"] = provider.Name,
            ["checked"] = checkedSoFar,
            ["dead"] = deadSoFar,
            ["observe"] = settings.Observe,
        }, ct);
    }

    /// <summary>A batch describe; null when the answer is not clean (the rows are then left alone, fail-safe).</summary>
    private async Task<IReadOnlyDictionary<string, InstanceState>?> DescribeAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        counts.Add(ReconcileCount.DescribeCalls);
        using var timeout = new CancellationTokenSource(settings.CallTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await provider.DescribeAsync(ids, linked.Token);
        }
        catch (Exception ex) when (ex is ProviderException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            counts.Add(ReconcileCount.ProviderErrors);
            logger.LogWarning("describe on {provider} gave no clean answer; {count} rows left alone: {error}", provider.Name, ids.Count, ex.Message);
            return null;
        }
    }

    /// <summary>Moves the stored resume point past every page that is done (saved whatever the budget says: the work is done).</summary>
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
                await progress.SaveAsync(InstanceReconciler.SweepName, PassName, provider.Name, resumeAfter, CancellationToken.None);
                savedAdvance = advance;
            }
        }
        finally
        {
            saving.Release();
        }
    }

    private sealed record Page(IReadOnlyList<OnlineRow> Rows, long Sequence);

    private sealed record Suspect(OnlineRow Row, DateTimeOffset DueAt);
}
