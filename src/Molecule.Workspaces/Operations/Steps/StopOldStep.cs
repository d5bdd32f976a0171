using System.Text.Json.Nodes;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>
/// Terminates the workspace's current box through the provider that owns it (<c>instance_provider</c>, never
/// <c>compute.provider</c>), then clears it from the row under the claim. Owns its retries: 4 attempts, 1 s ×2 ≤ 8 s;
/// then <c>exhausted</c>, and stop-exhausted queues the box instead.
/// </summary>
public sealed class StopOldStep(StepContext context) : OperationStep(context)
{
    public override string Name => StepNames.StopOld;

    public override async Task<StepResult> RunAsync(Operation op, CancellationToken ct)
    {
        if (op.Progress.Stopped)
        {
            return StepResult.Ok;
        }

        var row = await Context.Claims.GetIfHeldAsync(op.WorkspaceId, op.Id, ct);
        if (row is null)
        {
            return await AbortAsync(op, "claim lost before stop-old", ct);
        }

        if (row is { InstanceId: { } instanceId, InstanceProvider: { } providerName })
        {
            var error = await TryTerminateAsync(providerName, instanceId, ct);
            if (error is not null)
            {
                var progress = op.Progress.WithAttempt(Name, error.Message);
                await Context.Operations.SaveProgressAsync(op.Id, Name, progress, ct);
                var attempts = progress.AttemptsOf(Name);
                return !error.IsRetryable || RetrySchedule.StopOld.IsExhausted(attempts)
                    ? StepResult.Exhausted(error.Message)
                    : StepResult.RetryAfter(RetrySchedule.StopOld.DelayAfter(attempts), error.Message);
            }
        }

        return await InTransactionAsync(async (conn, tx, token) =>
        {
            if (await Context.Claims.TakeInstanceAsync(conn, tx, op.WorkspaceId, op.Id, token) is null)
            {
                return null;
            }

            await Context.Operations.SaveProgressAsync(conn, tx, op.Id, Name, op.Progress with { Stopped = true }, token);
            await Context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, EventTypes.InstanceStopped,
                Payload(op, new() { ["instance_id"] = row.InstanceId, ["provider"] = row.InstanceProvider }), token);
            return StepResult.Ok;
        }, ct) ?? await AbortAsync(op, "claim lost during stop-old", ct);
    }

    private async Task<ProviderException?> TryTerminateAsync(string providerName, string instanceId, CancellationToken ct)
    {
        if (!Context.Providers.TryGet(providerName, out var provider))
        {
            return new ProviderException(providerName, ProviderErrorKind.Terminal, "the box's provider is not configured");
        }

        try
        {
            var results = await CallProviderAsync(provider, token => provider.TerminateAsync([instanceId], token), ct);
            return results.TryGetValue(instanceId, out var result) && result.Terminated
                ? null
                : new ProviderException(providerName, ProviderErrorKind.Transient, result?.Error ?? "terminate gave no answer for the box");
        }
        catch (ProviderException ex)
        {
            return ex;
        }
    }
}
