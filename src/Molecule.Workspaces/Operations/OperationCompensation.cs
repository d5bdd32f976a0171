using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations.Steps;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// Undoes an operation by what its progress says it did (DESIGN §5.1 rollback): a started box is queued for
/// termination; a written provider is restored; the status goes back to what it was if the old box was never
/// touched, to <c>offline</c> if it was stopped (the reconciler heals it) — <c>paused</c> for a pause, whose intent
/// is met — and to <c>failed</c> for a create. The row is written only where the claim is still this operation's.
/// Used by the rollback step and by the reconciler for operations whose claim expired.
/// </summary>
public sealed class OperationCompensation(StepContext context)
{
    public async Task<bool> CompensateAsync(Operation op, string finalState, string eventType, string error, CancellationToken ct)
    {
        var status = op switch
        {
            { Kind: OperationKind.Create } => WorkspaceStatus.Failed,
            { Progress.Stopped: true, Kind: OperationKind.Pause } => WorkspaceStatus.Paused,
            { Progress.Stopped: true } => WorkspaceStatus.Offline,
            _ => null, // the old box was never touched: back to prior_status
        };
        var restoreProvider = op.Progress.ProviderWritten ? op.Input.FromProvider : null;

        await using var conn = await context.Db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (op.Progress is { NewInstanceId: { } newId, NewInstanceProvider: { } newProvider })
        {
            await context.PendingTerminations.EnqueueAsync(conn, tx, newProvider, newId, op.WorkspaceId, "rollback", error, ct);
            await context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, EventTypes.InstanceQueuedForTermination,
                new JsonObject { ["instance_id"] = newId, ["provider"] = newProvider, ["reason"] = "rollback" }, ct);
        }

        var row = await context.Claims.CompensateAsync(conn, tx, op.WorkspaceId, op.Id, restoreProvider, op.Progress.NewInstanceId, status, ct);
        var finished = await context.Operations.FinishAsync(conn, tx, op.Id, finalState, StepNames.Rollback, error, ct);
        if (finished)
        {
            await context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, eventType, new JsonObject
            {
                ["kind"] = op.Kind,
                ["error"] = error,
                ["status"] = row?.Status,
                ["claim_held"] = row is not null,
                ["restored_provider"] = restoreProvider,
                ["queued_instance_id"] = op.Progress.NewInstanceId,
            }, ct);
        }

        await tx.CommitAsync(ct);
        if (finished)
        {
            context.Logger.LogWarning("compensated operation {operation_id} of workspace {workspace_id} ({kind}): {error}",
                op.Id, op.WorkspaceId, op.Kind, error);
        }

        return finished;
    }
}
