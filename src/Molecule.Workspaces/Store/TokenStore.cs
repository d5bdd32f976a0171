using System.Security.Cryptography;
using System.Text;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>Per-workspace bearer tokens. Only the SHA-256 of a token is stored; the token itself is shown once, at create.</summary>
public sealed class TokenStore(NpgsqlDataSource db, TimeProvider time)
{
    public static string NewToken() => "mws_" + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public async Task InsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, string token, CancellationToken ct)
    {
        const string sql = "INSERT INTO workspace_tokens (token_sha256, workspace_id, created_at) VALUES ($1, $2, $3)";
        await using var cmd = Command(conn, tx, sql, P(Hash(token)), Uuid(workspaceId), Time(time.GetUtcNow()));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The workspace a live token belongs to, or null. Tokens of removed workspaces are revoked.</summary>
    public async Task<Guid?> ResolveAsync(string token, CancellationToken ct)
    {
        const string sql = "SELECT workspace_id FROM workspace_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL";
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(P(Hash(token)));
        return await cmd.ExecuteScalarAsync(ct) as Guid?;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
