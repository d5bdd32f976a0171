using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.BadInput;

/// <summary>A body that is not declared JSON is a 415 and changes nothing, whatever it looks like (DESIGN §10).</summary>
public sealed class MediaTypeTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private TestDatabase Database => api.Database;

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/json; charset=latin1")]
    [InlineData(null)]
    public async Task A_json_body_under_another_media_type_is_a_415_and_creates_nothing(string? contentType)
    {
        var before = await Database.FingerprintAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/workspaces")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"name":"{{ApiCalls.UniqueName("media")}}"}""")),
        };
        request.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);

        using var response = await api.Factory.AdminClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await Database.FingerprintAsync());
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/merge-patch+json")]
    public async Task Json_media_types_are_accepted(string contentType)
    {
        var created = await api.Factory.AdminClient().CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("json-ok") });
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/workspaces/{created["id"]}")
        {
            Content = new StringContent("""{"x":1}"""),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        using var response = await api.Factory.AdminClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
