using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace Molecule.Workspaces.Events;

/// <summary>Appends to and reads the durable audit log. Appends join the caller's transaction when given one,
/// so an event is written exactly when the change it describes is.</summary>
public sealed class EventStore(NpgsqlDataSource db, TimeProvider time)
{
    public async Task AppendAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid? workspaceId, Guid? operationId,
        string eventType, JsonObject? payload, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO structure_events (workspace_id, operation_id, event_type, payload, created_at)
            VALUES ($1, $2, $3, $4, $5)
            """;
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)workspaceId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)operationId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = eventType });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (payload ?? []).ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Appends on its own connection; used where the change itself is already committed (or is in the cloud).</summary>
    public async Task AppendAsync(Guid? workspaceId, Guid? operationId, string eventType, JsonObject? payload, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await AppendAsync(conn, null, workspaceId, operationId, eventType, payload, ct);
    }

    /// <summary>Appends each event on one connection of its own (a page of them would otherwise take one pooled connection each).</summary>
    public async Task AppendAllAsync(IReadOnlyList<(Guid? WorkspaceId, Guid? OperationId, string EventType, JsonObject? Payload)> events, CancellationToken ct)
    {
        if (events.Count == 0)
        {
            return;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        foreach (var (workspaceId, operationId, eventType, payload) in events)
        {
            await AppendAsync(conn, null, workspaceId, operationId, eventType, payload, ct);
        }
    }

    public async Task<IReadOnlyList<StructureEvent>> ListForWorkspaceAsync(Guid workspaceId, int limit, CancellationToken ct)
    {
        const string sql = """
            SELECT id, workspace_id, operation_id, event_type, payload::text, created_at
              FROM structure_events
             WHERE workspace_id = $1
             ORDER BY id DESC
             LIMIT $2
            """;
        return await ListAsync(sql, [new NpgsqlParameter { Value = workspaceId }, new NpgsqlParameter { Value = limit }], ct);
    }

    public async Task<IReadOnlyList<StructureEvent>> ListByTypeAsync(string eventType, int limit, CancellationToken ct)
    {
        const string sql = """
            SELECT id, workspace_id, operation_id, event_type, payload::text, created_at
              FROM structure_events
             WHERE event_type = $1
             ORDER BY id DESC
             LIMIT $2
            """;
        return await ListAsync(sql, [new NpgsqlParameter { Value = eventType }, new NpgsqlParameter { Value = limit }], ct);
    }

    private async Task<IReadOnlyList<StructureEvent>> ListAsync(string sql, NpgsqlParameter[] parameters, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddRange(parameters);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var events = new List<StructureEvent>();
        while (await reader.ReadAsync(ct))
        {
            events.Add(new StructureEvent(
                reader.GetInt64(0),
                reader.IsDBNull(1) ? null : reader.GetGuid(1),
                reader.IsDBNull(2) ? null : reader.GetGuid(2),
                reader.GetString(3),
                JsonNode.Parse(reader.GetString(4))?.AsObject() ?? [],
                reader.GetFieldValue<DateTimeOffset>(5)));
        }

        return events;
    }
}
