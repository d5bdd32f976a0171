using System.Diagnostics.CodeAnalysis;
using System.Text;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Http;

/// <summary>
/// The <c>cursor</c> of <c>GET /workspaces</c>: the last row's (created_at, id), base64url, opaque to clients. Anything
/// this API did not issue is refused (400), never passed to the database.
/// </summary>
public static class WorkspaceCursorCodec
{
    private const int MaxLength = 128;

    public static string Encode(WorkspaceCursor cursor)
    {
        var text = $"{cursor.CreatedAt.UtcTicks}:{cursor.Id:D}";
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Null when absent or empty; 400 <c>VALIDATION</c> for anything this API did not issue.</summary>
    public static bool TryDecode(string? raw, out WorkspaceCursor? cursor, [NotNullWhen(false)] out ProblemResult? problem)
    {
        problem = null;
        cursor = null;
        if (string.IsNullOrEmpty(raw) || TryParse(raw, out cursor))
        {
            return true;
        }

        problem = Problems.Validation("cursor is not one this API issued");
        return false;
    }

    private static bool TryParse(string raw, out WorkspaceCursor? cursor)
    {
        cursor = null;
        if (raw.Length > MaxLength)
        {
            return false;
        }

        var base64 = raw.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var written))
        {
            return false;
        }

        var parts = Encoding.UTF8.GetString(bytes, 0, written).Split(':');
        if (parts.Length != 2 || !long.TryParse(parts[0], out var ticks) || ticks < 0 || ticks > DateTimeOffset.MaxValue.UtcTicks
            || !Guid.TryParseExact(parts[1], "D", out var id))
        {
            return false;
        }

        cursor = new WorkspaceCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id);
        return true;
    }
}
