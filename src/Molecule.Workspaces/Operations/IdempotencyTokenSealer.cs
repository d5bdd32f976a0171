using System.Security.Cryptography;
using System.Text;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// Seals the workspace token inside a stored create answer (<c>idempotency_keys.response</c>), so a retried create can
/// replay its exact answer while the database never holds a token in clear — only its hash in
/// <c>workspace_tokens</c> and this ciphertext. AES-256-GCM with a key from configuration; the associated data binds a
/// sealed token to its idempotency key and workspace, so a ciphertext copied onto another row does not open.
/// The first key seals; every key opens (a rotation keeps the old key for the answers' one-day life).
/// </summary>
public sealed class IdempotencyTokenSealer
{
    public const int KeyBytes = 32;
    private const int KeyIdBytes = 4;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    private readonly (byte[] Id, byte[] Key)[] keys;

    public IdempotencyTokenSealer(IReadOnlyList<byte[]> keys)
    {
        if (keys.Count == 0 || keys.Any(k => k.Length != KeyBytes))
        {
            throw new ArgumentException($"at least one key of {KeyBytes} bytes is required", nameof(keys));
        }

        this.keys = keys.Select(k => (SHA256.HashData(k)[..KeyIdBytes], k)).ToArray();
    }

    public string Seal(string token, string idempotencyKey, Guid workspaceId)
    {
        var (id, key) = keys[0];
        var plaintext = Encoding.UTF8.GetBytes(token);
        var sealedBytes = new byte[KeyIdBytes + NonceBytes + TagBytes + plaintext.Length];
        var span = sealedBytes.AsSpan();
        id.CopyTo(span);
        var nonce = span.Slice(KeyIdBytes, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plaintext, span[(KeyIdBytes + NonceBytes + TagBytes)..], span.Slice(KeyIdBytes + NonceBytes, TagBytes),
            AssociatedData(idempotencyKey, workspaceId));
        return Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The token, or null when no configured key opens it (the key was dropped, or the value was altered).</summary>
    public string? Open(string sealedToken, string idempotencyKey, Guid workspaceId)
    {
        byte[] sealedBytes;
        try
        {
            sealedBytes = Convert.FromBase64String(sealedToken);
        }
        catch (FormatException)
        {
            return null;
        }

        if (sealedBytes.Length < KeyIdBytes + NonceBytes + TagBytes)
        {
            return null;
        }

        var span = sealedBytes.AsSpan();
        var id = span[..KeyIdBytes];
        foreach (var (keyId, key) in keys)
        {
            if (!id.SequenceEqual(keyId))
            {
                continue;
            }

            var ciphertext = span[(KeyIdBytes + NonceBytes + TagBytes)..];
            var plaintext = new byte[ciphertext.Length];
            try
            {
                using var aes = new AesGcm(key, TagBytes);
                aes.Decrypt(span.Slice(KeyIdBytes, NonceBytes), ciphertext, span.Slice(KeyIdBytes + NonceBytes, TagBytes), plaintext,
                    AssociatedData(idempotencyKey, workspaceId));
                return Encoding.UTF8.GetString(plaintext);
            }
            catch (AuthenticationTagMismatchException)
            {
                return null;
            }
        }

        return null;
    }

    private static byte[] AssociatedData(string idempotencyKey, Guid workspaceId) =>
        Encoding.UTF8.GetBytes($"molecule.create-answer.v1\n{workspaceId:D}\n{idempotencyKey}");
}
