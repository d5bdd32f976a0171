using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>
/// Marks the operation <c>running</c> under one execution id. A second execution of the same operation (a
/// re-dispatch whose first hand-off did arrive after all) ends at once; the same execution resuming after a crash
/// goes on.
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
               AND (o.state = 'pending' OR (o.state = 'running' AND o.execution_arn = $2))
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

        if (op.State == OperationState.Running && op.ExecutionArn != executionId)
        {
            // another execution owns this operation: end this one without touching anything
            return StepResult.Abort($"operation is already running under {op.ExecutionArn}");
        }

        return OperationState.IsActive(op.State)
            ? await AbortAsync(op, "claim lost before the operation began", ct)
            : StepResult.Abort($"operation already {op.State}");
    }
}
