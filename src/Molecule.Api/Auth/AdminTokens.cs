using System.Security.Cryptography;
using System.Text;

namespace Molecule.Api.Auth;

/// <summary>
/// The admin tokens, held as SHA-256 hashes only (<c>Molecule:Auth:AdminTokenSha256:&lt;n&gt;</c>, hex). In Development
/// with none configured, <see cref="DevelopmentToken"/> is accepted; in any other environment the app refuses to start.
/// </summary>
public sealed class AdminTokens
{
    public const string DevelopmentToken = "molecule-dev-token";

    private readonly byte[][] hashes;

    private AdminTokens(byte[][] hashes, bool usingDevelopmentToken)
    {
        this.hashes = hashes;
        UsingDevelopmentToken = usingDevelopmentToken;
    }

    public bool UsingDevelopmentToken { get; }

    public static AdminTokens FromConfiguration(IConfiguration configuration, IHostEnvironment environment)
    {
        var configured = configuration.GetSection("Molecule:Auth:AdminTokenSha256").GetChildren()
            .Select(s => s.Value)
            .Where(v => !string.IsNullOrWhiteSpace(v))
            .Select(v => ParseHex(v!))
            .ToArray();
        if (configured.Length > 0)
        {
            return new AdminTokens(configured, usingDevelopmentToken: false);
        }

        if (!environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                "no admin token is configured: set Molecule:Auth:AdminTokenSha256:0 to the hex SHA-256 of the admin token");
        }

        return new AdminTokens([Hash(DevelopmentToken)], usingDevelopmentToken: true);
    }

    public bool Matches(string token)
    {
        var hash = Hash(token);
        var match = false;
        foreach (var candidate in hashes)
        {
            // constant time per candidate, and every candidate is compared, so timing reveals nothing
            match |= CryptographicOperations.FixedTimeEquals(hash, candidate);
        }

        return match;
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private static byte[] ParseHex(string hex)
    {
        var bytes = Convert.FromHexString(hex.Trim());
        return bytes.Length == 32
            ? bytes
            : throw new InvalidOperationException("Molecule:Auth:AdminTokenSha256 entries must be 64 hex characters (SHA-256)");
    }
}
