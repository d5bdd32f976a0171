using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// Active operations whose workspace no longer holds their claim (a delete took it) and that nothing has written for
/// <see cref="SweepOptions.AbandonedOperationGrace"/>: their walk died before a step could notice. They are ended
/// <c>aborted</c> and the box they started is queued (unless a live row names it), as their own next step would have
/// done. A walk that is still alive aborts by itself at its next step; the statement re-checks the claim and the quiet
/// time, so it never races one. Acts in observe mode too.
/// </summary>
internal sealed class AbandonedOperationPass(ReconcilerStore store, TimeProvider time, int pageSize, ILogger logger)
{
    public async Task RunAsync(ReconcileCounts counts, CancellationToken ct)
    {
        var quietSince = time.GetUtcNow() - SweepOptions.AbandonedOperationGrace;
        await counts.EachAsync(await store.ListAbandonedAsync(quietSince, pageSize, ct),
            async operation =>
            {
                var aborted = await store.AbortAbandonedAsync(operation.OperationId, quietSince, "claim lost and nothing walked the operation any more", ct);
                if (aborted is not null)
                {
                    counts.Add(ReconcileCount.AbandonedOperations);
                    logger.LogWarning("aborted abandoned operation {operation_id} of workspace {workspace_id} ({kind}); queued box {instance_id}",
                        operation.OperationId, operation.WorkspaceId, aborted.Kind, aborted.QueuedInstanceId);
                }
            },
            (operation, ex) => logger.LogError(ex, "aborting abandoned operation {operation_id} of workspace {workspace_id} failed",
                operation.OperationId, operation.WorkspaceId),
            ct);
    }
}
