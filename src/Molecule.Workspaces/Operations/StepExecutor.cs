using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations.Steps;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// Runs one step of one operation by name: the entry point shared by the local runner and the state machine's
/// Tasks (<c>POST /internal/steps</c>). Loads the operation fresh every time, so each invocation stands alone.
/// Everything it logs carries <c>operation_id</c>, <c>step</c>, <c>execution_arn</c> and, once the operation is
/// read, <c>workspace_id</c> and <c>kind</c> (logging scopes, which the JSON log format turns into fields).
/// </summary>
public sealed class StepExecutor(StepContext context) : IStepExecutor
{
    public async Task<StepResult> RunAsync(string step, Guid operationId, string executionId, CancellationToken ct)
    {
        using var stepScope = context.Logger.BeginScope(new Dictionary<string, object?>
        {
            ["operation_id"] = operationId,
            ["step"] = step,
            ["execution_arn"] = executionId,
        });
        IDisposable? operationScope = null;
        try
        {
            var op = await context.Operations.GetAsync(operationId, ct);
            if (op is null)
            {
                return StepResult.Abort("unknown operation");
            }

            operationScope = context.Logger.BeginScope(new Dictionary<string, object?>
            {
                ["workspace_id"] = op.WorkspaceId,
                ["kind"] = op.Kind,
            });
            return await RunLoadedAsync(step, op, executionId, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // logged here, before the finally closes the operation's scope, so the crash carries its fields; the
            // walker (the runner, or the Task's Retry) retries the step
            context.Logger.LogError(ex, "step {step} of operation {operation_id} crashed", step, operationId);
            throw;
        }
        finally
        {
            operationScope?.Dispose();
        }
    }

    private async Task<StepResult> RunLoadedAsync(string step, Operation op, string executionId, CancellationToken ct)
    {
        if (step != StepNames.Begin && (op.ExecutionArn != executionId || op.State == OperationState.Pending))
        {
            // Only the execution that won begin acts for the operation, rollback included: a twin execution's crash
            // (Catch → Rollback) must not compensate the owner's operation, nor a local replica whose lease another
            // replica took over. One that no execution began (a local lease may already name its execution) stays
            // pending for the outbox repair or the next lease to walk again.
            return StepResult.Abort(op.ExecutionArn is null || op.State == OperationState.Pending
                ? "operation has not begun under any execution"
                : $"operation belongs to execution {op.ExecutionArn}");
        }

        if (step != StepNames.Rollback && !OperationState.IsActive(op.State))
        {
            return StepResult.Abort($"operation already {op.State}");
        }

        if (!OperationWalk.Applies(op.Kind, step))
        {
            return StepResult.Ok;
        }

        var result = await Create(step, executionId).RunAsync(op, ct);
        if (result.Outcome is StepOutcome.Failed or StepOutcome.Exhausted or StepOutcome.Retry)
        {
            await RecordAsync(op, step, result, ct);
        }

        context.Logger.LogInformation("step {step} of operation {operation_id} ({kind}) answered {outcome}",
            step, op.Id, op.Kind, result.Outcome);
        return result;
    }

    /// <summary>Keeps the error for rollback to report and writes the outcome to the audit log.</summary>
    private async Task RecordAsync(Operation op, string step, StepResult result, CancellationToken ct)
    {
        await using var conn = await context.Db.OpenConnectionAsync(ct);
        if (result.Outcome == StepOutcome.Failed)
        {
            const string sql = "UPDATE operations SET error = $2, step = $3, updated_at = $4 WHERE id = $1 AND state IN ('pending', 'running')";
            await using var cmd = Command(conn, null, sql, Uuid(op.Id), Text(result.Error), Text(step), Time(context.Time.GetUtcNow()));
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await context.Events.AppendAsync(conn, null, op.WorkspaceId, op.Id, EventTypes.OperationStep, new JsonObject
        {
            ["kind"] = op.Kind,
            ["step"] = step,
            ["outcome"] = result.Outcome,
            ["error"] = result.Error,
            ["wait_seconds"] = result.WaitSeconds,
        }, ct);
    }

    private OperationStep Create(string step, string executionId) => step switch
    {
        StepNames.Begin => new BeginStep(context, executionId),
        StepNames.StopOld => new StopOldStep(context),
        StepNames.StopExhausted => new StopExhaustedStep(context),
        StepNames.Write => new WriteProviderStep(context),
        StepNames.Provision => new ProvisionStep(context),
        StepNames.AwaitRunning => new AwaitRunningStep(context),
        StepNames.Commit => new CommitStep(context),
        StepNames.Rollback => new RollbackStep(context),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "unknown step"),
    };
}
