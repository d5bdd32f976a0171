using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>Sets the final status (<c>online</c>, or <c>paused</c> for a pause), releases the claim and ends the operation, in one transaction.</summary>
public sealed class CommitStep(StepContext context) : OperationStep(context)
{
    public override string Name => StepNames.Commit;

    public override async Task<StepResult> RunAsync(Operation op, CancellationToken ct)
    {
        var status = op.Kind == OperationKind.Pause ? WorkspaceStatus.Paused : WorkspaceStatus.Online;
        return await InTransactionAsync(async (conn, tx, token) =>
        {
            var row = await Context.Claims.CommitAsync(conn, tx, op.WorkspaceId, op.Id, status, token);
            if (row is null)
            {
                return null;
            }

            await Context.Operations.FinishAsync(conn, tx, op.Id, OperationState.Succeeded, Name, null, token);
            await Context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, EventTypes.OperationSucceeded, Payload(op, new()
            {
                ["status"] = status,
                ["instance_id"] = row.InstanceId,
                ["provider"] = row.InstanceProvider,
            }), token);
            return StepResult.Ok;
        }, ct) ?? await AbortAsync(op, "claim lost before commit", ct);
    }
}
