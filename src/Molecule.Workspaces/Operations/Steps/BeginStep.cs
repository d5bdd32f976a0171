using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>
/// Marks the operation <c>running</c> under one execution id, which from then on owns it. A second execution of the
/// same operation (a re-dispatch whose first hand-off did arrive after all) ends at once and changes nothing; the
/// same execution resuming after a crash goes on. A local replica's lease names the execution before begin runs
/// (<c>execution_arn</c> of a pending operation): then only that execution may begin it.
/// </summary>
public sealed class BeginStep(StepContext context, string executionId) : OperationStep(context)
{
    public override string Name => StepNames.Begin;

    public override async Task<StepResult> RunAsync(Operation op, CancellationToken ct)
    {
        const string sql = """
            UPDATE operations o
               SET state = 'running', execution_arn = $2, step = 'begin', started_at = coalesce(o.started_at, $3), updated_at = $3
             WHERE o.id = $1
               -- a pending operation may already name its execution: a local replica's lease assigns it before begin
               AND ((o.state = 'pending' AND (o.execution_arn IS NULL OR o.execution_arn = $2))
                    OR (o.state = 'running' AND o.execution_arn = $2))
               -- only while the claim is still this operation's: a delete may have come first
               AND EXISTS (SELECT 1 FROM workspaces w WHERE w.id = o.workspace_id AND w.claim_id = o.id)
            """;
        var started = await InTransactionAsync(async (conn, tx, token) =>
        {
            await using var cmd = Command(conn, tx, sql, Uuid(op.Id), Text(executionId), Time(Context.Time.GetUtcNow()));
            if (await cmd.ExecuteNonQueryAsync(token) != 1)
            {
                return false;
            }

            if (op.State == OperationState.Pending)
            {
                await Context.Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, EventTypes.OperationStarted,
                    Payload(op, new() { ["execution_arn"] = executionId }), token);
            }

            return true;
        }, ct);
        if (started)
        {
            return StepResult.Ok;
        }

        // Re-read: what the caller loaded may be a stale 'pending'. Two executions that both loaded the operation
        // before either began it race the update above; the loser must see the winner's 'running' and end only
        // itself, never abort the operation the winner now owns.
        var current = await Context.Operations.GetAsync(op.Id, ct) ?? op;
        if (current.State == OperationState.Running && current.ExecutionArn != executionId)
        {
            return StepResult.Abort($"operation is already running under {current.ExecutionArn}");
        }

        if (current.State == OperationState.Pending && current.ExecutionArn is not null && current.ExecutionArn != executionId)
        {
            // another local replica took the operation's lease (this one was slow or cut off): it owns the operation
            return StepResult.Abort($"operation belongs to execution {current.ExecutionArn}");
        }

        if (!OperationState.IsActive(current.State))
        {
            return StepResult.Abort($"operation already {current.State}");
        }

        // still pending (no execution can begin it any more), or running under this very execution: the claim is
        // gone (a delete came first), so the operation ends here
        return await AbortAsync(current, "claim lost before the operation began", ct);
    }
}
