using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// Suspects first seen "not running" in this pass, asked again once the re-confirm delay has passed: as they fall due
/// they are described again in batches (a slot of the walk's describes each), and only a second "not running" goes
/// on to be marked. A suspect whose second answer is unclean, or whose turn never comes before the budget ends, stays
/// remembered: its next visit confirms it.
/// </summary>
internal sealed class ReconfirmQueue(ProviderDescriber describer, SemaphoreSlim slots, SuspectMemory suspects, ReconcilerSettings settings,
    ReconcileCounts counts, TimeProvider time, ILogger logger)
{
    private readonly Channel<Suspect> due = Channel.CreateUnbounded<Suspect>(new UnboundedChannelOptions { SingleReader = true });

    public void Add(OnlineRow row, DateTimeOffset firstSeen) => due.Writer.TryWrite(new Suspect(row, firstSeen + settings.ReconfirmDelay));

    /// <summary>No more suspects will come; <see cref="RunAsync"/> ends once the last is settled.</summary>
    public void Complete() => due.Writer.TryComplete();

    public async Task RunAsync(Func<IReadOnlyList<(OnlineRow Row, InstanceState State)>, CancellationToken, Task> markDead, CancellationToken ct)
    {
        try
        {
            while (await due.Reader.WaitToReadAsync(ct))
            {
                // suspects arrive in the order they were first seen, so the first one is the first due
                if (due.Reader.TryPeek(out var first) && first.DueAt > time.GetUtcNow())
                {
                    await Task.Delay(first.DueAt - time.GetUtcNow(), time, ct);
                }

                var batch = new List<Suspect>();
                while (batch.Count < settings.PageSize && due.Reader.TryPeek(out var next) && next.DueAt <= time.GetUtcNow()
                       && due.Reader.TryRead(out next))
                {
                    batch.Add(next);
                }

                await ReconfirmAsync(batch, markDead, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // the rest stay remembered: their next visit confirms them
        }
    }

    private async Task ReconfirmAsync(IReadOnlyList<Suspect> batch, Func<IReadOnlyList<(OnlineRow, InstanceState)>, CancellationToken, Task> markDead,
        CancellationToken ct)
    {
        try
        {
            await slots.WaitAsync(ct);
            IReadOnlyDictionary<string, InstanceState>? states;
            try
            {
                states = await describer.DescribeAsync(batch.Select(s => s.Row.InstanceId).ToList(), ct);
            }
            finally
            {
                slots.Release();
            }

            if (states is null)
            {
                return;
            }

            var confirmed = new List<(OnlineRow, InstanceState)>();
            foreach (var suspect in batch)
            {
                if (states.TryGetValue(suspect.Row.InstanceId, out var state) && state.IsNotRunning())
                {
                    confirmed.Add((suspect.Row, state));
                }
                else
                {
                    // back (a describe lag, a hiccup): the suspicion is over
                    suspects.Forget(suspect.Row.Key);
                }
            }

            await markDead(confirmed, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            counts.Add(ReconcileCount.Errors);
            logger.LogError(ex, "re-confirming {count} suspects on {provider} failed unexpectedly; their next visit confirms them",
                batch.Count, describer.ProviderName);
        }
    }

    private sealed record Suspect(OnlineRow Row, DateTimeOffset DueAt);
}
