using System.Text.Json.Nodes;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>
/// stop-old could not terminate the old box: hand it to <c>pending_terminations</c> (the orphan sweeper makes sure
/// it dies), record why, clear it from the row, and let the operation go on.
/// </summary>
public sealed class StopExhaustedStep(StepContext context) : OperationStep(context)
{
    public override string Name => StepNames.StopExhausted;

    public override async Task<StepResult> RunAsync(Operation op, CancellationToken ct)
    {
        if (op.Progress.Stopped)
        {
            return StepResult.Ok;
        }

        var row = await Context.Claims.GetIfHeldAsync(op.WorkspaceId, op.Id, ct);
        if (row is null)
        {
            return await AbortAsync(op, "claim lost before stop-exhausted", ct);
        }

        return await InTransactionAsync(async (conn, tx, token) =>
        {
            if (row is { InstanceId: { } instanceId, InstanceProvider: { } provider })
            {
                await Context.PendingTerminations.EnqueueAsync(conn, tx, provider, instanceId, op.WorkspaceId, "stop_exhausted", op.Progress.LastError, token);
            }

            if (!await Context.Claims.ClearInstanceAsync(conn, tx, op.WorkspaceId, op.Id, token))
            {
                // the enqueue still commits: the box must die either way, and both the queue and a removed row's sweep are idempotent
                return null;
            }

            await Context.Operations.SaveProgressAsync(conn, tx, op.Id, Name, op.Progress with { Stopped = true, StopExhausted = true }, token);
            var eventType = op.Kind == OperationKind.SwitchProvider ? EventTypes.SwitchStopExhausted : EventTypes.StopExhausted;
            await Context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, eventType, Payload(op, new()
            {
                ["old_instance_id"] = row.InstanceId,
                ["old_provider"] = row.InstanceProvider,
                ["new_provider"] = op.Input.ToProvider,
                ["attempts"] = op.Progress.AttemptsOf(StepNames.StopOld),
                ["last_error"] = op.Progress.LastError,
            }), token);
            return StepResult.Ok;
        }, ct) ?? await AbortAsync(op, "claim lost during stop-exhausted", ct);
    }
}
