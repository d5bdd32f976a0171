using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// The outbox repair (DESIGN §5.4): an operation still <c>pending</c> two minutes after its last hand-off is handed off
/// again (<c>begin</c> makes a duplicate harmless). Acts in observe mode too. Every hand-off moves
/// <c>updated_at</c>, so an operation is handed off at most once per window.
/// </summary>
internal sealed class OutboxRepairPass(ReconcilerStore store, IOperationDispatcher dispatcher, TimeProvider time, int pageSize, ILogger logger)
{
    /// <summary>An operation still <c>pending</c> this long after its last hand-off is handed off again.</summary>
    public static readonly TimeSpan RepairAfter = TimeSpan.FromMinutes(2);

    public async Task RunAsync(ReconcileCounts counts, CancellationToken ct) =>
        await counts.EachAsync(await store.ListStalePendingAsync(time.GetUtcNow() - RepairAfter, pageSize, ct),
            async stale =>
            {
                await dispatcher.DispatchAsync(stale.OperationId, ct);
                counts.Add(ReconcileCount.Redispatched);
            },
            (stale, ex) => logger.LogError(ex, "handing operation {operation_id} of workspace {workspace_id} off again failed; the next tick tries again",
                stale.OperationId, stale.WorkspaceId),
            ct);
}
