using System.Text.Json;
using Molecule.Workspaces.Domain;
using Npgsql;

namespace Molecule.Workspaces.Store;

/// <summary>The one column list every query of a whole operation row selects, and its reader.</summary>
internal static class OperationRow
{
    public const string Columns = """
        id, workspace_id, kind, state, step, input::text, progress::text, error, execution_arn, dispatch_count,
        created_at, updated_at, started_at, finished_at
        """;

    public static Operation Read(NpgsqlDataReader r) => new()
    {
        Id = r.GetGuid(0),
        WorkspaceId = r.GetGuid(1),
        Kind = r.GetString(2),
        State = r.GetString(3),
        Step = r.IsDBNull(4) ? null : r.GetString(4),
        Input = JsonSerializer.Deserialize(r.GetString(5), DomainJson.Default.OperationInput) ?? new OperationInput(),
        Progress = JsonSerializer.Deserialize(r.GetString(6), DomainJson.Default.OperationProgress) ?? new OperationProgress(),
        Error = r.IsDBNull(7) ? null : r.GetString(7),
        ExecutionArn = r.IsDBNull(8) ? null : r.GetString(8),
        DispatchCount = r.GetInt32(9),
        CreatedAt = r.GetFieldValue<DateTimeOffset>(10),
        UpdatedAt = r.GetFieldValue<DateTimeOffset>(11),
        StartedAt = r.IsDBNull(12) ? null : r.GetFieldValue<DateTimeOffset>(12),
        FinishedAt = r.IsDBNull(13) ? null : r.GetFieldValue<DateTimeOffset>(13),
    };

    /// <summary>Runs <paramref name="cmd"/> and reads its first row, or null when it returned none.</summary>
    public static async Task<Operation?> ReadSingleAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }
}
