using System.Text.Json.Nodes;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>
/// Waits for the new box to report <c>running</c>: <c>pending</c> (or not yet visible, or an unclear answer) →
/// poll again; gone → failed; not running within the timeout (12 min) → failed. Never writes the row.
/// </summary>
public sealed class AwaitRunningStep(StepContext context) : OperationStep(context)
{
    public override string Name => StepNames.AwaitRunning;

    public override async Task<StepResult> RunAsync(Operation op, CancellationToken ct)
    {
        if (op.Progress.Running)
        {
            return StepResult.Ok;
        }

        if (await Context.Claims.GetIfHeldAsync(op.WorkspaceId, op.Id, ct) is null)
        {
            return await AbortAsync(op, "claim lost while awaiting the box", ct);
        }

        var progress = op.Progress;
        if (progress is not { NewInstanceId: { } instanceId, NewInstanceProvider: { } providerName })
        {
            return StepResult.Failed("no new box to await");
        }

        var now = Context.Time.GetUtcNow();
        if (progress.AwaitStartedAt is null)
        {
            progress = progress with { AwaitStartedAt = now };
            await Context.Operations.SaveProgressAsync(op.Id, Name, progress, ct);
        }

        var state = await DescribeAsync(providerName, instanceId, ct);
        switch (state)
        {
            case InstanceState.Running:
                await InTransactionAsync(async (conn, tx, token) =>
                {
                    await Context.Operations.SaveProgressAsync(conn, tx, op.Id, Name, progress with { Running = true }, token);
                    await Context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, EventTypes.InstanceRunning,
                        Payload(op, new() { ["instance_id"] = instanceId, ["provider"] = providerName }), token);
                    return true;
                }, ct);
                return StepResult.Ok;
            case InstanceState.Stopping or InstanceState.Stopped or InstanceState.ShuttingDown or InstanceState.Terminated:
                return StepResult.Failed($"new box {instanceId} is {state.Value.ToWire()} before it ran");
        }

        // pending, not yet visible (describe lag), or no clean answer: wait, within the timeout
        return now - progress.AwaitStartedAt!.Value >= Context.Options.AwaitRunningTimeout
            ? StepResult.Failed($"new box {instanceId} was not running within {Context.Options.AwaitRunningTimeout}")
            : StepResult.PendingFor(Context.Options.PollInterval);
    }

    private async Task<InstanceState?> DescribeAsync(string providerName, string instanceId, CancellationToken ct)
    {
        if (!Context.Providers.TryGet(providerName, out var provider))
        {
            return null;
        }

        try
        {
            var states = await CallProviderAsync(provider, token => provider.DescribeAsync([instanceId], token), ct);
            return states.TryGetValue(instanceId, out var state) ? state : null;
        }
        catch (ProviderException)
        {
            return null;
        }
    }
}
