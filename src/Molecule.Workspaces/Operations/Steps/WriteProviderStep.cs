using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>switch-provider only: writes the target provider into <c>compute.provider</c> under the claim.</summary>
public sealed class WriteProviderStep(StepContext context) : OperationStep(context)
{
    public override string Name => StepNames.Write;

    public override async Task<StepResult> RunAsync(Operation op, CancellationToken ct)
    {
        if (op.Progress.ProviderWritten)
        {
            return StepResult.Ok;
        }

        var target = op.Input.ToProvider ?? throw new InvalidOperationException("switch-provider without a target provider");
        return await InTransactionAsync(async (conn, tx, token) =>
        {
            if (!await Context.Claims.WriteProviderAsync(conn, tx, op.WorkspaceId, op.Id, target, token))
            {
                return null;
            }

            await Context.Operations.SaveProgressAsync(conn, tx, op.Id, Name, op.Progress with { ProviderWritten = true }, token);
            await Context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, EventTypes.ProviderWritten,
                Payload(op, new() { ["from"] = op.Input.FromProvider, ["to"] = target }), token);
            return StepResult.Ok;
        }, ct) ?? await AbortAsync(op, "claim lost before write", ct);
    }
}
