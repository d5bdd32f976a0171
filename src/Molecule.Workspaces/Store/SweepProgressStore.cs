using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>
/// The resume points of the sweeps' paged passes (<c>sweep_progress</c>): one per sweep, pass and provider, written
/// after every page, so a tick cut by its budget — or a cold start — loses at most the page in flight.
/// </summary>
public sealed class SweepProgressStore(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>Where the pass stopped, and when that was written; a pass never walked yet starts at the beginning.</summary>
    public async Task<SweepPosition> GetAsync(string sweep, string pass, string provider, CancellationToken ct)
    {
        const string sql = """
            SELECT resume_after, updated_at
              FROM sweep_progress
             WHERE sweep = $1 AND pass = $2 AND provider = $3
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Text(sweep), Text(pass), Text(provider));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new SweepPosition(reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1))
            : SweepPosition.Start;
    }

    /// <summary>Records where the next tick resumes; null: at the beginning (the pass reached the end of its list).</summary>
    public async Task SaveAsync(string sweep, string pass, string provider, string? resumeAfter, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO sweep_progress (sweep, pass, provider, resume_after, updated_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (sweep, pass, provider) DO UPDATE SET resume_after = excluded.resume_after, updated_at = excluded.updated_at
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Text(sweep), Text(pass), Text(provider), Text(resumeAfter), Time(time.GetUtcNow()));
        await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>A pass's resume point: after <paramref name="ResumeAfter"/> (null: from the beginning), saved at <paramref name="SavedAt"/>.</summary>
public sealed record SweepPosition(string? ResumeAfter, DateTimeOffset? SavedAt)
{
    public static SweepPosition Start { get; } = new(null, null);
}
