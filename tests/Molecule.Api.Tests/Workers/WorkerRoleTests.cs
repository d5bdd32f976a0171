using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Sweeps;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Workers;

/// <summary>
/// <c>Molecule:Role</c>: exactly all, api, steps, sweeps and migrate start; anything else refuses to start. Worker
/// entry points exist only in worker roles, and only role <c>all</c> walks operations and ticks sweeps on its own
/// (no Lambda container resumes operations or sweeps between invocations).
/// </summary>
public sealed class WorkerRoleTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    public static TheoryData<string> Roles() => ["all", "api", "steps", "sweeps", "migrate"];

    public static TheoryData<string, string> InternalRoutesInPublicRoles() => new()
    {
        { "all", "/internal/steps" },
        { "all", "/internal/sweeps/orphans" },
        { "all", "/internal/sweeps/reconcile" },
        { "api", "/internal/steps" },
        { "api", "/internal/sweeps/orphans" },
        { "api", "/internal/sweeps/reconcile" },
    };

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Every_known_role_starts_and_answers_health(string role)
    {
        await using var factory = Host(role);

        using var response = await factory.CreateClient().GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("worker")]
    [InlineData("ALL")]
    [InlineData("")]
    [InlineData("api,steps")]
    public async Task An_unknown_role_refuses_to_start_naming_the_setting_and_the_roles(string role)
    {
        await using var factory = Host(role);

        var error = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(error);
        Assert.Contains($"Molecule:Role '{role}' is not a role; use one of: all, api, steps, sweeps, migrate", error.ToString());
    }

    [Theory]
    [MemberData(nameof(InternalRoutesInPublicRoles))]
    public async Task Internal_routes_do_not_exist_in_the_public_roles(string role, string path)
    {
        await using var factory = Host(role);

        using var response = await factory.AdminClient().SendJsonAsync(HttpMethod.Post, path,
            """{"step":"begin","operation_id":"00000000-0000-4000-8000-000000000001","execution_arn":"arn:x"}""");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("NOT_FOUND", (string?)(await response.ProblemAsync())["error"]);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Only_role_all_walks_operations_and_ticks_sweeps_in_process(string role)
    {
        await using var factory = Host(role);
        factory.CreateClient().Dispose();

        var hosted = factory.Services.GetServices<IHostedService>().ToList();

        var inProcess = role == "all";
        Assert.Equal(inProcess, hosted.Any(s => s is LocalOperationRunner));
        Assert.Equal(inProcess, hosted.Any(s => s is SweepHostedService));
    }

    [Theory]
    [InlineData("api")]
    [InlineData("sweeps")]
    public async Task Local_dispatch_refuses_to_start_in_a_role_that_hands_operations_to_step_functions(string role)
    {
        await using var factory = new ApiFactory(database, new Dictionary<string, string?> { ["Molecule:Role"] = role });

        var error = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(error);
        Assert.Contains($"role '{role}' needs Molecule:Dispatch:Mode 'dynamodb'", error.ToString());
    }

    [Fact]
    public async Task An_unknown_dispatch_mode_refuses_to_start()
    {
        await using var factory = new ApiFactory(database, new Dictionary<string, string?> { ["Molecule:Dispatch:Mode"] = "sqs" });

        var error = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(error);
        Assert.Contains("Molecule:Dispatch:Mode 'sqs' is not a mode", error.ToString());
    }

    [Fact]
    public async Task Dynamodb_dispatch_without_a_table_refuses_to_start()
    {
        await using var factory = new ApiFactory(database, new Dictionary<string, string?>
        {
            ["Molecule:Role"] = "api",
            ["Molecule:Dispatch:Mode"] = "dynamodb",
        });

        var error = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(error);
        Assert.Contains("Molecule:Dispatch:TableName is required", error.ToString());
    }

    /// <summary>The app in <paramref name="role"/>, configured as that role is in AWS (roles that hand off: dynamodb, never called here).</summary>
    private ApiFactory Host(string role)
    {
        var settings = new Dictionary<string, string?> { ["Molecule:Role"] = role };
        if (role is "api" or "sweeps")
        {
            settings.WithUnreachableDispatchTable();
        }

        return new ApiFactory(database, settings);
    }
}
