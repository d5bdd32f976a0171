using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// Heals offline, unclaimed, non-external rows (marked lost, or left without a working box by a rollback or an expired
/// claim) with a <c>heal</c> operation — at most <see cref="MaxHealsPerWindow"/> per workspace per rolling
/// <see cref="Window"/>; past it the row goes <c>failed</c> (event <c>workspace.heal.budget_exhausted</c>). Never heals a
/// row of a provider whose brake tripped in this tick. Observe mode records each heal it would start instead.
/// </summary>
internal sealed class HealPass(ReconcilerStore store, OperationStarter starter, EventStore events, ReconcilerSettings settings, ILogger logger)
{
    public const int MaxHealsPerWindow = 3;

    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    public async Task RunAsync(ReconcileCounts counts, IReadOnlySet<string> brakedProviders, CancellationToken ct) =>
        await counts.EachAsync(await store.ListHealCandidatesAsync(brakedProviders, settings.PageSize, ct),
            id =>
            {
                // out of time: no heal starts, and the loop ends (the token's own exception is no failure)
                ct.ThrowIfCancellationRequested();
                return HealAsync(id, counts, ct);
            },
            (id, ex) => logger.LogError(ex, "healing workspace {workspace_id} failed; the next tick tries again", id),
            ct);

    private async Task HealAsync(Guid id, ReconcileCounts counts, CancellationToken ct)
    {
        if (settings.Observe)
        {
            counts.Add(ReconcileCount.Healed);
            await events.AppendObservedAsync(id, "heal", [], ct);
            return;
        }

        if (await store.MarkBudgetExhaustedAsync(id, MaxHealsPerWindow, Window, ct))
        {
            counts.Add(ReconcileCount.HealBudgetExhausted);
            logger.LogError("workspace {workspace_id} was healed {count} times within {window}; marked failed", id, MaxHealsPerWindow, Window);
            return;
        }

        // the budget is spent only by a heal that really started: one refused (say, the row was claimed meanwhile) costs nothing
        var started = await starter.StartAsync(new StartRequest(id, OperationKind.Heal, "reconciler"), ct);
        if (started.Outcome == StartOutcome.Started)
        {
            await store.SpendHealBudgetAsync(id, Window, ct);
            counts.Add(ReconcileCount.Healed);
        }
    }
}
