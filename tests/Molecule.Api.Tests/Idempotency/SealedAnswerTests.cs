using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Molecule.Api.Hosting;
using Molecule.Api.Tests.Infrastructure;

namespace Molecule.Api.Tests.Idempotency;

/// <summary>
/// The stored answer of a keyed create keeps the workspace token only sealed: a retried create replays the exact
/// answer, and the database never holds the token in clear.
/// </summary>
public sealed class SealedAnswerTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task The_stored_answer_holds_no_token_in_clear_and_a_retry_replays_the_exact_answer()
    {
        var client = api.Factory.AdminClient();
        var body = new JsonObject { ["name"] = ApiCalls.UniqueName("sealed") }.ToJsonString();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };

        using var first = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", body, headers);
        using var retry = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", body, headers);
        var firstText = await first.Content.ReadAsStringAsync();
        var token = (string)JsonNode.Parse(firstText)!["auth_token"]!;
        var stored = await api.Database.ScalarAsync<string>("SELECT response::text FROM idempotency_keys WHERE key = $1", headers["Idempotency-Key"]);
        var clearAnywhere = await api.Database.ScalarAsync<long>(
            "SELECT count(*) FROM idempotency_keys k WHERE strpos(k::text, $1) > 0", token);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(firstText, await retry.Content.ReadAsStringAsync());
        Assert.DoesNotContain(token, stored);
        Assert.DoesNotContain(token["mws_".Length..], stored);
        Assert.Equal(0L, clearAnywhere);
    }

    [Fact]
    public void Production_api_without_an_encryption_key_refuses_to_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            IdempotencyKeyConfiguration.Build(new ConfigurationBuilder().Build(), Environment("Production"), ServiceRoles.Api));

        Assert.Contains("EncryptionKey", error.Message);
    }

    [Fact]
    public void A_key_that_is_not_32_bytes_of_base64_is_refused_at_start()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Molecule:Idempotency:EncryptionKey"] = Convert.ToBase64String(new byte[16]) })
            .Build();

        Assert.Throws<InvalidOperationException>(() => IdempotencyKeyConfiguration.Build(configuration, Environment("Production"), ServiceRoles.Api));
    }

    private static IHostEnvironment Environment(string name) => new FixedEnvironment { EnvironmentName = name };

    private sealed class FixedEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "";
        public string ApplicationName { get; set; } = "Molecule.Api";
        public string ContentRootPath { get; set; } = "/";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
