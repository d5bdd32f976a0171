using System.Security.Cryptography;
using Molecule.Workspaces.Operations;

namespace Molecule.Workspaces.Tests.Operations;

public sealed class IdempotencyTokenSealerTests
{
    private static readonly Guid Workspace = Guid.NewGuid();

    [Fact]
    public void A_sealed_token_opens_with_its_key_and_never_shows_in_the_sealed_text()
    {
        var sealer = new IdempotencyTokenSealer([NewKey()]);

        var sealedToken = sealer.Seal("mws_secret-token-value", "key-1", Workspace);

        Assert.DoesNotContain("secret-token-value", sealedToken);
        Assert.Equal("mws_secret-token-value", sealer.Open(sealedToken, "key-1", Workspace));
    }

    [Fact]
    public void A_sealed_token_does_not_open_for_another_idempotency_key_or_workspace()
    {
        var sealer = new IdempotencyTokenSealer([NewKey()]);
        var sealedToken = sealer.Seal("mws_token", "key-1", Workspace);

        Assert.Null(sealer.Open(sealedToken, "key-2", Workspace));
        Assert.Null(sealer.Open(sealedToken, "key-1", Guid.NewGuid()));
    }

    [Fact]
    public void An_altered_sealed_token_does_not_open()
    {
        var sealer = new IdempotencyTokenSealer([NewKey()]);
        var bytes = Convert.FromBase64String(sealer.Seal("mws_token", "key-1", Workspace));
        bytes[^1] ^= 0x01;

        Assert.Null(sealer.Open(Convert.ToBase64String(bytes), "key-1", Workspace));
        Assert.Null(sealer.Open("not base64!", "key-1", Workspace));
        Assert.Null(sealer.Open("AAAA", "key-1", Workspace));
    }

    [Fact]
    public void After_a_rotation_the_previous_key_still_opens_and_the_new_key_seals()
    {
        var oldKey = NewKey();
        var before = new IdempotencyTokenSealer([oldKey]).Seal("mws_old", "key-1", Workspace);
        var rotated = new IdempotencyTokenSealer([NewKey(), oldKey]);

        var after = rotated.Seal("mws_new", "key-2", Workspace);

        Assert.Equal("mws_old", rotated.Open(before, "key-1", Workspace));
        Assert.Null(new IdempotencyTokenSealer([oldKey]).Open(after, "key-2", Workspace));
    }

    [Fact]
    public void A_key_of_the_wrong_size_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new IdempotencyTokenSealer([new byte[16]]));
        Assert.Throws<ArgumentException>(() => new IdempotencyTokenSealer([]));
    }

    private static byte[] NewKey() => RandomNumberGenerator.GetBytes(IdempotencyTokenSealer.KeyBytes);
}
