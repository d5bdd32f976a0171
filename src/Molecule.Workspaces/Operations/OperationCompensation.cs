using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations.Steps;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// Undoes an operation by what its progress says it did (DESIGN §5.1 rollback): a started box is queued for
/// termination; a written provider is restored; the status goes back to what it was if the old box was never
/// touched, to <c>offline</c> if it was stopped (the reconciler heals it) — <c>paused</c> for a pause, whose intent
/// is met — and to <c>failed</c> for a create. The row is written only where the claim is still this operation's.
/// Used by the rollback step and by the reconciler for operations whose claim expired.
/// <para>
/// A walk may still be alive while the reconciler compensates it (an expired claim, a slow execution), so nothing is
/// taken from a caller's earlier read: the workspace row and then the operation row are locked (the order every step
/// writes them in) and the operation is re-read inside the compensation's transaction. An operation that has ended
/// meanwhile is left as it is and nothing is queued: its new box may be the workspace's live box now.
/// </para>
/// </summary>
public sealed class OperationCompensation(StepContext context)
{
    /// <summary>Compensates <paramref name="op"/>; only its ids are used, everything else is read afresh under lock.</summary>
    public Task<bool> CompensateAsync(Operation op, string finalState, string eventType, string error, CancellationToken ct) =>
        CompensateAsync(op.WorkspaceId, op.Id, finalState, eventType, error, ct);

    /// <summary>True when this call ended the operation; false when it had already ended (or does not exist) and nothing was changed.</summary>
    public async Task<bool> CompensateAsync(Guid workspaceId, Guid operationId, string finalState, string eventType, string error, CancellationToken ct)
    {
        await using var conn = await context.Db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await context.Claims.LockAsync(conn, tx, workspaceId, ct);
        var op = await context.Operations.LockAsync(conn, tx, operationId, ct);
        if (op is null || op.WorkspaceId != workspaceId || !OperationState.IsActive(op.State))
        {
            // a commit, an abort or another compensation got there first: its outcome stands
            return false;
        }

        var status = op switch
        {
            { Kind: OperationKind.Create } => WorkspaceStatus.Failed,
            { Progress.Stopped: true, Kind: OperationKind.Pause } => WorkspaceStatus.Paused,
            { Progress.Stopped: true } => WorkspaceStatus.Offline,
            _ => null, // the old box was never touched: back to prior_status
        };
        var restoreProvider = op.Progress.ProviderWritten ? op.Input.FromProvider : null;

        // the row first: the new box is taken off it, so the queue's "no live row names it" guard lets it in
        var row = await context.Claims.CompensateAsync(conn, tx, op.WorkspaceId, op.Id, restoreProvider, op.Progress.NewInstanceId, status, ct);
        await context.Operations.FinishAsync(conn, tx, op.Id, finalState, StepNames.Rollback, error, ct);
        var queued = await context.QueueNewInstanceAsync(conn, tx, op, "rollback", error, ct);

        await context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, eventType, new JsonObject
        {
            ["kind"] = op.Kind,
            ["error"] = error,
            ["status"] = row?.Status,
            ["claim_held"] = row is not null,
            ["restored_provider"] = restoreProvider,
            ["queued_instance_id"] = queued ? op.Progress.NewInstanceId : null,
        }, ct);
        await tx.CommitAsync(ct);
        context.Logger.LogWarning("compensated operation {operation_id} of workspace {workspace_id} ({kind}): {error}",
            op.Id, op.WorkspaceId, op.Kind, error);
        return true;
    }
}
