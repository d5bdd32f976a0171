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

        if (await Context.Claims.GetIfHeldAsync(op.WorkspaceId, op.Id, ct) is null)
        {
            return await AbortAsync(op, "claim lost before stop-exhausted", ct);
        }

        return await InTransactionAsync(async (conn, tx, token) =>
        {
            // off the row first, under the claim, then into the queue: with the claim lost meanwhile (a delete, an
            // expiry whose compensation handed the row back) the box is the row's again, and queueing it would kill
            // a box that a live row names
            var taken = await Context.Claims.TakeInstanceAsync(conn, tx, op.WorkspaceId, op.Id, token);
            if (taken is null)
            {
                return null;
            }

            if (taken is { InstanceId: { } instanceId, Provider: { } provider })
            {
                await Context.PendingTerminations.EnqueueAsync(conn, tx, provider, instanceId, op.WorkspaceId, "stop_exhausted", op.Progress.LastError, token);
            }

            await Context.Operations.SaveProgressAsync(conn, tx, op.Id, Name, op.Progress with { Stopped = true, StopExhausted = true }, token);
            var eventType = op.Kind == OperationKind.SwitchProvider ? EventTypes.SwitchStopExhausted : EventTypes.StopExhausted;
            await Context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, eventType, Payload(op, new()
            {
                ["old_instance_id"] = taken.InstanceId,
                ["old_provider"] = taken.Provider,
                ["new_provider"] = op.Input.ToProvider,
                ["attempts"] = op.Progress.AttemptsOf(StepNames.StopOld),
                ["last_error"] = op.Progress.LastError,
            }), token);
            return StepResult.Ok;
        }, ct) ?? await AbortAsync(op, "claim lost during stop-exhausted", ct);
    }
}
