using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Hosting;

/// <summary>What a request about one workspace logs carries that workspace's id as a scope property.</summary>
public sealed class RequestLogScopeTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_restart_request_logs_inside_a_scope_holding_the_workspace_id()
    {
        var captured = new ScopeCapturingLoggerProvider();
        await using var factory = new ApiFactory(database,
            new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information" },
            services => services.AddSingleton<ILoggerProvider>(captured));
        var client = factory.AdminClient();
        var created = await client.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("scoped-request") });
        var id = (string)created["id"]!;

        using var restart = await client.PostAsync($"/workspaces/{id}/restart", null);

        var started = Assert.Single(captured.Entries, e => e.Message.StartsWith("started restart operation", StringComparison.Ordinal));
        Assert.Equal(Guid.Parse(id), started.ScopeFields["workspace_id"]);
    }
}
