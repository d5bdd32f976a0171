using System.Text.Json.Nodes;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>
/// Starts the new box on <c>compute.provider</c> with the operation id as idempotency token, records it in the
/// operation's progress, and only then points the row at it. A crash anywhere in between is safe: the retried
/// call returns the same box, and a box recorded in progress is owned by this operation, never a leak.
/// Owns its retries: 6 attempts, 2 s ×2 ≤ 10 s, for transient and capacity errors.
/// </summary>
public sealed class ProvisionStep(StepContext context) : OperationStep(context)
{
    public override string Name => StepNames.Provision;

    public override async Task<StepResult> RunAsync(Operation op, CancellationToken ct)
    {
        if (op.Progress.InstanceWritten)
        {
            return StepResult.Ok;
        }

        var row = await Context.Claims.GetIfHeldAsync(op.WorkspaceId, op.Id, ct);
        if (row is null)
        {
            return await AbortAsync(op, "claim lost before provision", ct);
        }

        var progress = op.Progress;
        if (progress.NewInstanceId is null)
        {
            if (!Context.Providers.TryGet(row.Compute.Provider, out var provider))
            {
                return StepResult.Failed($"provider '{row.Compute.Provider}' is not configured");
            }

            try
            {
                var spec = new InstanceSpec(row.Compute.InstanceType, row.Compute.DataPersistence, row.Compute.Volume?.RootGb);
                var newId = await CallProviderAsync(provider, token => provider.ProvisionAsync(spec, op.Id.ToString(), Tags(row, op), token), ct);
                progress = progress with { NewInstanceId = newId, NewInstanceProvider = provider.Name };

                // recorded before the row is written: from here on this box is owned by the operation
                await Context.Operations.SaveProgressAsync(op.Id, Name, progress, ct);
                op = op with { Progress = progress };
            }
            catch (ProviderException ex)
            {
                var failed = progress.WithAttempt(Name, ex.Message);
                await Context.Operations.SaveProgressAsync(op.Id, Name, failed, ct);
                var attempts = failed.AttemptsOf(Name);
                if (!ex.IsRetryable)
                {
                    return StepResult.Failed(ex.Message);
                }

                return RetrySchedule.Provision.IsExhausted(attempts)
                    ? StepResult.Failed($"provision failed after {attempts} attempts: {ex.Message}")
                    : StepResult.RetryAfter(RetrySchedule.Provision.DelayAfter(attempts), ex.Message);
            }
        }

        var instanceId = progress.NewInstanceId!;
        var providerName = progress.NewInstanceProvider!;
        return await InTransactionAsync(async (conn, tx, token) =>
        {
            if (!await Context.Claims.WriteInstanceAsync(conn, tx, op.WorkspaceId, op.Id, instanceId, providerName, UrlOf(providerName, instanceId), token))
            {
                return null;
            }

            await Context.Operations.SaveProgressAsync(conn, tx, op.Id, Name, progress with { InstanceWritten = true }, token);
            await Context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, EventTypes.InstanceProvisioned,
                Payload(op, new() { ["instance_id"] = instanceId, ["provider"] = providerName }), token);
            return StepResult.Ok;
        }, ct) ?? await AbortAsync(op, "claim lost after provision", ct);
    }

    private Dictionary<string, string> Tags(Workspace row, Operation op) => new(StringComparer.Ordinal)
    {
        [ProviderTags.Deployment] = Context.Deployment.Id,
        [ProviderTags.WorkspaceId] = row.Id.ToString(),
        [ProviderTags.OperationId] = op.Id.ToString(),
        [ProviderTags.Name] = $"molecule-{row.Id:N}"[..21],
    };

    /// <summary>Where the workspace's agent answers. Boxes are reached by instance id through the deployment's private DNS.</summary>
    private static string UrlOf(string provider, string instanceId) => $"http://{instanceId}.{provider}.molecule.internal:8000";
}
