using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Npgsql;
using Polly;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>
/// One step of an operation. A step checks "already done?" in the operation's progress first, makes at most one
/// side effect keyed by the operation id, and answers an outcome. It never throws for a domain outcome; a throw
/// means an unexpected fault, which the runner (or the state machine's Task <c>Retry</c>) retries.
/// </summary>
public abstract class OperationStep(StepContext context)
{
    protected StepContext Context { get; } = context;

    protected ResiliencePipeline DatabaseRetry { get; } = TransientDatabaseErrors.StepPipeline(context.Time);

    public abstract string Name { get; }

    public abstract Task<StepResult> RunAsync(Operation op, CancellationToken ct);

    /// <summary>Runs one provider call under the per-call timeout; the caller's own cancellation still propagates.</summary>
    protected async Task<T> CallProviderAsync<T>(IComputeProvider provider, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(Context.Options.ProviderCallTimeout, Context.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await call(linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new ProviderException(provider.Name, ProviderErrorKind.Transient, $"call timed out after {Context.Options.ProviderCallTimeout}");
        }
    }

    /// <summary>
    /// The claim is gone (a delete, an expiry): stop, queue any box this operation started so it cannot leak, and end
    /// the operation <c>aborted</c>. Touches nothing on the workspace row, which is no longer ours.
    /// </summary>
    protected async Task<StepResult> AbortAsync(Operation op, string reason, CancellationToken ct)
    {
        await InTransactionAsync(async (conn, tx, token) =>
        {
            // only the call that ends the operation queues its box: if a twin execution already committed it, that
            // box is the workspace's live box and must not be touched
            if (!await Context.Operations.FinishAsync(conn, tx, op.Id, OperationState.Aborted, Name, reason, token))
            {
                return false;
            }

            await Context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, EventTypes.OperationAborted,
                new JsonObject { ["kind"] = op.Kind, ["step"] = Name, ["reason"] = reason }, token);
            await Context.QueueNewInstanceAsync(conn, tx, op, "operation_aborted", reason, token);
            return true;
        }, ct);
        Context.Logger.LogWarning("aborted operation {operation_id} of workspace {workspace_id} at {step}: {reason}", op.Id, op.WorkspaceId, Name, reason);
        return StepResult.Abort(reason);
    }

    /// <summary>Runs <paramref name="work"/> in one transaction with the in-step retry for transient database errors.</summary>
    protected Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> work, CancellationToken ct) =>
        DatabaseRetry.ExecuteAsync(async token =>
        {
            await using var conn = await Context.Db.OpenConnectionAsync(token);
            await using var tx = await conn.BeginTransactionAsync(token);
            var result = await work(conn, tx, token);
            await tx.CommitAsync(token);
            return result;
        }, ct).AsTask();

    protected static JsonObject Payload(Operation op, JsonObject? extra = null)
    {
        var payload = new JsonObject { ["kind"] = op.Kind };
        foreach (var (key, value) in extra ?? [])
        {
            payload[key] = value?.DeepClone();
        }

        return payload;
    }
}
