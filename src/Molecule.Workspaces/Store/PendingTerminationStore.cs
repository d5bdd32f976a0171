using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>
/// The queue of boxes that must die but that no row points at any more (DESIGN §3). Enqueueing is idempotent
/// on <c>(provider, instance_id)</c>, so every path that might leak a box can enqueue it without coordination.
/// </summary>
public sealed class PendingTerminationStore(TimeProvider time)
{
    public async Task EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string provider, string instanceId,
        Guid? workspaceId, string reason, string? lastError, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO pending_terminations (provider, instance_id, workspace_id, reason, next_attempt_at, last_error, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $5)
            ON CONFLICT (provider, instance_id) DO NOTHING
            """;
        await using var cmd = Command(conn, tx, sql,
            Text(provider), Text(instanceId), Uuid(workspaceId), Text(reason), Time(time.GetUtcNow()), Text(lastError));
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
