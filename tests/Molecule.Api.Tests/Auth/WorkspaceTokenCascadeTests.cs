using System.Net;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Auth;

/// <summary>
/// A workspace token acts on its own workspace only (DESIGN §10): a cascade that would reach a descendant — a delete
/// with <c>?confirm=true</c>, a pause or resume with <c>?cascade=true</c> — is a 403 and changes nothing.
/// </summary>
public sealed class WorkspaceTokenCascadeTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private TestDatabase Database => api.Database;

    [Fact]
    public async Task A_workspace_token_cannot_delete_its_descendants_with_confirm()
    {
        var (parentToken, parent, _) = await FamilyAsync("delete-cascade");
        var before = await Database.FingerprintAsync();

        using var response = await api.Factory.ClientWithToken(parentToken).DeleteAsync($"/workspaces/{parent}?confirm=true");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("FORBIDDEN", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await Database.FingerprintAsync());
    }

    [Fact]
    public async Task A_workspace_token_learns_nothing_of_its_descendants_from_a_delete_without_confirm()
    {
        var (parentToken, parent, child) = await FamilyAsync("delete-no-confirm");
        var before = await Database.FingerprintAsync();

        using var response = await api.Factory.ClientWithToken(parentToken).DeleteAsync($"/workspaces/{parent}");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain(child, text);
        Assert.Equal(before, await Database.FingerprintAsync());
    }

    [Theory]
    [InlineData("pause")]
    [InlineData("resume")]
    public async Task A_workspace_token_cannot_cascade_a_lifecycle_operation_to_its_descendants(string action)
    {
        var (parentToken, parent, _) = await FamilyAsync($"{action}-cascade");
        var before = await Database.FingerprintAsync();

        using var response = await api.Factory.ClientWithToken(parentToken).PostAsync($"/workspaces/{parent}/{action}?cascade=true", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(before, await Database.FingerprintAsync());
    }

    [Fact]
    public async Task A_workspace_token_still_deletes_its_own_childless_workspace()
    {
        var created = await api.Factory.AdminClient().CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("own-leaf") });

        using var response = await api.Factory.ClientWithToken((string)created["auth_token"]!).DeleteAsync($"/workspaces/{created["id"]}?confirm=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task An_admin_token_still_cascades()
    {
        var (_, parent, child) = await FamilyAsync("admin-cascade");

        using var response = await api.Factory.AdminClient().DeleteAsync($"/workspaces/{parent}?confirm=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("removed", await Database.ScalarAsync<string>("SELECT status FROM workspaces WHERE id = $1", Guid.Parse(child)));
    }

    private async Task<(string ParentToken, string Parent, string Child)> FamilyAsync(string prefix)
    {
        var admin = api.Factory.AdminClient();
        var parent = await admin.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName(prefix) });
        var child = await admin.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName(prefix + "-child"), parent_id = (string)parent["id"]! });
        return ((string)parent["auth_token"]!, (string)parent["id"]!, (string)child["id"]!);
    }
}
