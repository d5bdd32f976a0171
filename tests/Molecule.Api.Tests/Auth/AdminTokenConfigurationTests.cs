using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Molecule.Api.Auth;

namespace Molecule.Api.Tests.Auth;

public sealed class AdminTokenConfigurationTests
{
    [Fact]
    public void Production_without_a_configured_admin_token_refuses_to_start()
    {
        var configuration = new ConfigurationBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => AdminTokens.FromConfiguration(configuration, Environment("Production")));

        Assert.Contains("AdminTokenSha256", error.Message);
    }

    [Fact]
    public void Development_without_one_accepts_only_the_development_token()
    {
        var tokens = AdminTokens.FromConfiguration(new ConfigurationBuilder().Build(), Environment("Development"));

        Assert.True(tokens.UsingDevelopmentToken);
        Assert.True(tokens.Matches(AdminTokens.DevelopmentToken));
        Assert.False(tokens.Matches("anything-else"));
    }

    [Fact]
    public void A_configured_hash_admits_its_token_and_retires_the_development_token()
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("s3cret-admin")));
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Molecule:Auth:AdminTokenSha256:0"] = hash })
            .Build();

        var tokens = AdminTokens.FromConfiguration(configuration, Environment("Development"));

        Assert.True(tokens.Matches("s3cret-admin"));
        Assert.False(tokens.Matches(AdminTokens.DevelopmentToken));
    }

    [Fact]
    public void A_hash_that_is_not_sha256_hex_is_refused_at_start()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Molecule:Auth:AdminTokenSha256:0"] = "abcd" })
            .Build();

        Assert.Throws<InvalidOperationException>(() => AdminTokens.FromConfiguration(configuration, Environment("Production")));
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
