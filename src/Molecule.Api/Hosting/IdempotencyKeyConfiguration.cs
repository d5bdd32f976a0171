using System.Security.Cryptography;
using System.Text;
using Molecule.Workspaces.Operations;

namespace Molecule.Api.Hosting;

/// <summary>
/// The keys that seal workspace tokens in stored create answers: <c>Molecule:Idempotency:EncryptionKey</c> (base64 of 32
/// random bytes, e.g. <c>openssl rand -base64 32</c>) seals and opens; <c>Molecule:Idempotency:PreviousEncryptionKeys:&lt;n&gt;</c>
/// only open (keep a rotated-out key for a day, the answers' life). In Development with none configured a fixed
/// development key is used; anywhere else a host that serves the API refuses to start without one.
/// </summary>
public static class IdempotencyKeyConfiguration
{
    public const string Section = "Molecule:Idempotency";

    public static IdempotencyTokenSealer Build(IConfiguration configuration, IHostEnvironment environment, string role)
    {
        var section = configuration.GetSection(Section);
        var keys = new List<byte[]>();
        if (section["EncryptionKey"] is { Length: > 0 } primary)
        {
            keys.Add(Parse(primary, "EncryptionKey"));
            keys.AddRange(section.GetSection("PreviousEncryptionKeys").GetChildren()
                .Where(s => !string.IsNullOrWhiteSpace(s.Value))
                .Select(s => Parse(s.Value!, "PreviousEncryptionKeys:" + s.Key)));
            return new IdempotencyTokenSealer(keys);
        }

        if (!environment.IsDevelopment() && ServiceRoles.ServesApi(role))
        {
            throw new InvalidOperationException(
                $"{Section}:EncryptionKey is not set: it seals workspace tokens in stored create answers (base64 of 32 random bytes: openssl rand -base64 32)");
        }

        // not secret, and only for Development (or a worker role, which never creates workspaces)
        return new IdempotencyTokenSealer([SHA256.HashData(Encoding.UTF8.GetBytes("molecule-development-idempotency-key"))]);
    }

    private static byte[] Parse(string base64, string name)
    {
        try
        {
            var key = Convert.FromBase64String(base64.Trim());
            if (key.Length == IdempotencyTokenSealer.KeyBytes)
            {
                return key;
            }
        }
        catch (FormatException)
        {
        }

        throw new InvalidOperationException($"{Section}:{name} must be the base64 of {IdempotencyTokenSealer.KeyBytes} bytes");
    }
}
