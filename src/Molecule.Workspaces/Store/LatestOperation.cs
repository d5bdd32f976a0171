using Npgsql;

namespace Molecule.Workspaces.Store;

/// <summary>
/// The lateral subquery that finds a workspace's latest operation (alias <c>w</c> for the workspace row), the columns
/// it adds after <see cref="WorkspaceRow.Columns"/>, and their reader. Its columns are renamed so that none of them
/// (<c>id</c> above all) is ambiguous next to the workspace's.
/// </summary>
internal static class LatestOperation
{
    /// <summary>Newest first by <c>created_at</c>, the order of the <c>operations_workspace</c> index: one index probe per workspace.</summary>
    public const string Subquery = """
        SELECT id AS operation_id, kind AS operation_kind, state AS operation_state
          FROM operations
         WHERE workspace_id = w.id
         ORDER BY created_at DESC
         LIMIT 1
        """;

    public const string Columns = "o.operation_id, o.operation_kind, o.operation_state";

    /// <summary>The ordinal of <c>operation_id</c>: right after the workspace's columns.</summary>
    private static readonly int First = WorkspaceRow.ColumnCount;

    public static OperationSummary? Read(NpgsqlDataReader r) =>
        r.IsDBNull(First) ? null : new OperationSummary(r.GetGuid(First), r.GetString(First + 1), r.GetString(First + 2));
}
