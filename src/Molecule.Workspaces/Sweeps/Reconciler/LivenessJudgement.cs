using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// What one provider's answers mean, page by page, for one pass: a box answering running clears its suspicion; a "not
/// running" first seen at least the re-confirm delay ago (an earlier tick) is confirmed now, a new one goes to the
/// <see cref="ReconfirmQueue"/>; a confirmed dead row is marked offline — unless the provider's mass-failure brake has
/// tripped (left online, counted as braked) or in observe mode (recorded, not marked).
/// </summary>
internal sealed class LivenessJudgement(ReconcilerStore store, EventStore events, SuspectMemory suspects, ReconcilerSettings settings,
    ReconcileCounts counts, TimeProvider time, ILogger logger, string provider)
{
    private readonly MassFailureBrake brake = new();

    public bool Braked => brake.Tripped;

    /// <summary>One page's clean answers.</summary>
    public async Task JudgeAsync(IReadOnlyList<OnlineRow> rows, IReadOnlyDictionary<string, InstanceState> states, ReconfirmQueue? reconfirm,
        CancellationToken ct)
    {
        counts.Add(ReconcileCount.Checked, rows.Count);
        var lookingDead = new List<(OnlineRow Row, InstanceState State)>();
        foreach (var row in rows)
        {
            if (states.TryGetValue(row.InstanceId, out var state) && state.IsNotRunning())
            {
                lookingDead.Add((row, state));
            }
            else if (states.ContainsKey(row.InstanceId))
            {
                suspects.Forget(row.Key);
            }
        }

        if (brake.Record(rows.Count, lookingDead.Count, out var checkedSoFar, out var deadSoFar))
        {
            await RecordBrakeAsync(checkedSoFar, deadSoFar, ct);
        }

        // one "not running" is not enough: boxes flicker through describe lag and API hiccups
        var now = time.GetUtcNow();
        var confirmed = new List<(OnlineRow Row, InstanceState State)>();
        foreach (var (row, state) in lookingDead)
        {
            var firstSeen = suspects.FirstSeen(row.Key, now);
            if (now - firstSeen >= settings.ReconfirmDelay)
            {
                confirmed.Add((row, state));
            }
            else if (!brake.Tripped)
            {
                reconfirm?.Add(row, firstSeen);
            }
        }

        await MarkDeadAsync(brake.Tripped ? lookingDead : confirmed, ct);
    }

    /// <summary>Confirmed dead rows: marked offline (a compare-and-set on the row as it was read), unless braked or observed.</summary>
    public async Task MarkDeadAsync(IReadOnlyList<(OnlineRow Row, InstanceState State)> dead, CancellationToken ct)
    {
        if (dead.Count == 0)
        {
            return;
        }

        // checked at the moment of acting: nothing is marked past a brake that tripped on another page meanwhile
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
            deadSoFar, checkedSoFar, provider);
        await events.AppendAsync(null, null, EventTypes.MassFailureSuspected, new JsonObject
        {
            ["provider"] = provider,
            ["checked"] = checkedSoFar,
            ["dead"] = deadSoFar,
            ["observe"] = settings.Observe,
        }, ct);
    }
}
