using System.Text.Json;
using Molecule.Workspaces.Domain;
using Npgsql;

namespace Molecule.Workspaces.Store;

/// <summary>The one column list every query of a whole workspace row selects, and its reader.</summary>
internal static class WorkspaceRow
{
    public const string Columns = """
        id, name, parent_id, status, runtime, tier, x, y, collapsed, compute::text, instance_id, instance_provider, url,
        claim_id, claim_kind, claim_expires_at, prior_status, heal_count, heal_window_started_at, version,
        created_at, updated_at, removed_at
        """;

    /// <summary>How many columns <see cref="Columns"/> has: a query may select more after them.</summary>
    public static readonly int ColumnCount = Columns.Split(',').Length;

    public static Workspace Read(NpgsqlDataReader r) => new()
    {
        Id = r.GetGuid(0),
        Name = r.GetString(1),
        ParentId = r.IsDBNull(2) ? null : r.GetGuid(2),
        Status = r.GetString(3),
        Runtime = r.GetString(4),
        Tier = r.GetInt32(5),
        X = r.GetDouble(6),
        Y = r.GetDouble(7),
        Collapsed = r.GetBoolean(8),
        Compute = JsonSerializer.Deserialize(r.GetString(9), DomainJson.Default.Compute)
            ?? throw new InvalidDataException("compute is null"),
        InstanceId = r.IsDBNull(10) ? null : r.GetString(10),
        InstanceProvider = r.IsDBNull(11) ? null : r.GetString(11),
        Url = r.IsDBNull(12) ? null : r.GetString(12),
        ClaimId = r.IsDBNull(13) ? null : r.GetGuid(13),
        ClaimKind = r.IsDBNull(14) ? null : r.GetString(14),
        ClaimExpiresAt = r.IsDBNull(15) ? null : r.GetFieldValue<DateTimeOffset>(15),
        PriorStatus = r.IsDBNull(16) ? null : r.GetString(16),
        HealCount = r.GetInt32(17),
        HealWindowStartedAt = r.IsDBNull(18) ? null : r.GetFieldValue<DateTimeOffset>(18),
        Version = r.GetInt32(19),
        CreatedAt = r.GetFieldValue<DateTimeOffset>(20),
        UpdatedAt = r.GetFieldValue<DateTimeOffset>(21),
        RemovedAt = r.IsDBNull(22) ? null : r.GetFieldValue<DateTimeOffset>(22),
    };

    public static async Task<Workspace?> ReadSingleAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }
}
