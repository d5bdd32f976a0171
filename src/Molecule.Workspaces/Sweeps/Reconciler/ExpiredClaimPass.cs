using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// Stranded claims (DESIGN §7): a claim past <c>claim_expires_at</c> is compensated like a rollback, event
/// <c>workspace.operation.expired</c>. Acts in observe mode too: it repairs what died, it judges no box. The
/// compensation re-reads the operation under lock, so a walk that is still alive and commits first keeps its result;
/// a claim whose operation is missing or already ended is released back to the status before it.
/// </summary>
internal sealed class ExpiredClaimPass(ReconcilerStore store, OperationCompensation compensation, int pageSize, ILogger logger)
{
    public async Task RunAsync(ReconcileCounts counts, CancellationToken ct) =>
        await counts.EachAsync(await store.ListExpiredClaimsAsync(pageSize, ct),
            async claim =>
            {
                counts.Add(ReconcileCount.ExpiredClaims);
                var error = $"claim expired; compensated by the {InstanceReconciler.SweepName}";
                if (!await compensation.CompensateAsync(claim.WorkspaceId, claim.OperationId, OperationState.RolledBack, EventTypes.OperationExpired, error, ct))
                {
                    await store.ReleaseOrphanClaimAsync(claim.WorkspaceId, claim.OperationId, ct);
                }
            },
            (claim, ex) => logger.LogError(ex, "compensating the expired claim {operation_id} of workspace {workspace_id} failed; the next tick tries again",
                claim.OperationId, claim.WorkspaceId),
            ct);
}
