using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Workers;

/// <summary>
/// <c>POST /internal/steps</c> in role <c>steps</c>, called as the Lambda Web Adapter calls it (no token): domain
/// outcomes are 200 with <c>{outcome, wait_seconds, error}</c>; a body that is not the contract is a 400 problem that
/// runs nothing; an unexpected fault is a 500.
/// </summary>
public sealed class StepEndpointTests(StepEndpointTests.StepsHost host) : IClassFixture<StepEndpointTests.StepsHost>
{
    private const string Op = "{OP}";

    public static TheoryData<string, string?> BadBodies() => new()
    {
        { "malformed JSON", """{"step":"begin",""" },
        { "not JSON", "step=begin" },
        { "empty body", "" },
        { "no body", null },
        { "a JSON array", $$"""[{"step":"begin","operation_id":"{{Op}}","execution_arn":"arn:x"}]""" },
        { "unknown step", $$"""{"step":"reboot","operation_id":"{{Op}}","execution_arn":"arn:x"}""" },
        { "step in another case", $$"""{"step":"BEGIN","operation_id":"{{Op}}","execution_arn":"arn:x"}""" },
        { "step a number", $$"""{"step":1,"operation_id":"{{Op}}","execution_arn":"arn:x"}""" },
        { "step null", $$"""{"step":null,"operation_id":"{{Op}}","execution_arn":"arn:x"}""" },
        { "missing step", $$"""{"operation_id":"{{Op}}","execution_arn":"arn:x"}""" },
        { "operation_id not a UUID", """{"step":"begin","operation_id":"not-a-uuid","execution_arn":"arn:x"}""" },
        { "operation_id a number", """{"step":"begin","operation_id":42,"execution_arn":"arn:x"}""" },
        { "operation_id an object", """{"step":"begin","operation_id":{"id":"x"},"execution_arn":"arn:x"}""" },
        { "missing operation_id", """{"step":"begin","execution_arn":"arn:x"}""" },
        { "missing execution_arn", $$"""{"step":"begin","operation_id":"{{Op}}"}""" },
        { "execution_arn a number", $$"""{"step":"begin","operation_id":"{{Op}}","execution_arn":7}""" },
        { "execution_arn empty", $$"""{"step":"begin","operation_id":"{{Op}}","execution_arn":""}""" },
        { "execution_arn 3000 characters", $$"""{"step":"begin","operation_id":"{{Op}}","execution_arn":"{{new string('a', 3000)}}"}""" },
        { "execution_arn with NUL", $$"""{"step":"begin","operation_id":"{{Op}}","execution_arn":"arn\u0000x"}""" },
        { "duplicate step key", $$"""{"step":"commit","step":"begin","operation_id":"{{Op}}","execution_arn":"arn:x"}""" },
        { "an HTTP event", $$"""{"httpMethod":"POST","requestContext":{},"step":"begin","operation_id":"{{Op}}"}""" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_body_that_is_not_the_step_contract_is_a_400_and_runs_nothing(string @case, string? body)
    {
        var (_, operation) = await host.Side.CreateAsync(ApiCalls.UniqueName("bad-step"));
        var before = await host.Database.FingerprintAsync();

        using var response = await host.Factory.ClientWithToken(null)
            .SendJsonAsync(HttpMethod.Post, "/internal/steps", body?.Replace(Op, operation.ToString()));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{@case}: {(int)response.StatusCode}");
        Assert.Equal("VALIDATION", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await host.Database.FingerprintAsync());
    }

    [Fact]
    public async Task A_step_answers_200_with_exactly_outcome_wait_seconds_and_error()
    {
        var (_, operation) = await host.Side.CreateAsync(ApiCalls.UniqueName("begin"));

        var answer = await PostStepAsync(StepNames.Begin, operation, "arn:aws:states:us-east-1:123456789012:execution:workspace-operation:a");

        Assert.Equal(["error", "outcome", "wait_seconds"], answer.Select(p => p.Key).Order());
        Assert.Equal(StepOutcome.Ok, (string?)answer["outcome"]);
        Assert.Null(answer["wait_seconds"]);
        Assert.Null(answer["error"]);
        var op = (await host.Database.ScalarAsync<string>("SELECT state || ' ' || execution_arn FROM operations WHERE id = $1", operation));
        Assert.Equal("running arn:aws:states:us-east-1:123456789012:execution:workspace-operation:a", op);
    }

    [Fact]
    public async Task A_retry_is_a_200_with_the_seconds_to_wait_and_the_error()
    {
        var (_, operation) = await host.Side.CreateAsync(ApiCalls.UniqueName("retry"));
        await PostStepAsync(StepNames.Begin, operation, "arn:retry");
        host.Side.Faults("sim-east").Set(SimCall.Provision, new SimFault(0, 0, FailNext: 1));
        try
        {
            var answer = await PostStepAsync(StepNames.Provision, operation, "arn:retry");

            Assert.Equal(StepOutcome.Retry, (string?)answer["outcome"]);
            Assert.Equal(2, (int?)answer["wait_seconds"]);
            Assert.False(string.IsNullOrEmpty((string?)answer["error"]));
        }
        finally
        {
            host.Side.Faults("sim-east").Clear();
        }
    }

    [Fact]
    public async Task Abort_is_a_domain_outcome_and_a_200_for_an_operation_that_does_not_exist()
    {
        var answer = await PostStepAsync(StepNames.Commit, Guid.NewGuid(), "arn:nobody");

        Assert.Equal(StepOutcome.Abort, (string?)answer["outcome"]);
        Assert.Equal("unknown operation", (string?)answer["error"]);
    }

    [Fact]
    public async Task An_unexpected_fault_is_a_500_problem_so_the_state_machine_retries_the_task()
    {
        var (_, operation) = await host.Side.CreateAsync(ApiCalls.UniqueName("crash"));
        host.Side.Scripted.Crash(operation, StepNames.Begin, times: 1);

        using var crashed = await Post(StepNames.Begin, operation, "arn:crash");
        var retried = await PostStepAsync(StepNames.Begin, operation, "arn:crash");

        Assert.Equal(HttpStatusCode.InternalServerError, crashed.StatusCode);
        Assert.Equal("STEP_CRASHED", (string?)(await crashed.ProblemAsync())["error"]);
        Assert.Equal(StepOutcome.Ok, (string?)retried["outcome"]);
    }

    [Fact]
    public async Task Every_step_invocation_logs_inside_a_scope_with_operation_workspace_and_step()
    {
        var (workspace, operation) = await host.Side.CreateAsync(ApiCalls.UniqueName("scoped"));

        await PostStepAsync(StepNames.Begin, operation, "arn:scoped");

        var line = Assert.Single(host.Logs.Entries, e => e.Message.Contains($"operation {operation}") && e.Message.Contains("answered"));
        Assert.Equal(operation, line.ScopeFields["operation_id"]);
        Assert.Equal(workspace, line.ScopeFields["workspace_id"]);
        Assert.Equal(StepNames.Begin, line.ScopeFields["step"]);
        Assert.Equal("arn:scoped", line.ScopeFields["execution_arn"]);
    }

    [Fact]
    public async Task A_step_that_crashes_is_a_500_and_its_crash_is_logged_with_the_operations_fields()
    {
        var workspace = await host.Side.CreateOnlineAsync(ApiCalls.UniqueName("crash-logged"));
        var operation = await host.Side.StartSwitchAsync(workspace, "sim-west");
        await PostStepAsync(StepNames.Begin, operation, "arn:crash-logged");
        await PostStepAsync(StepNames.StopOld, operation, "arn:crash-logged");
        // a switch whose input lost its target: write cannot run, an unexpected fault
        await host.Database.ExecuteAsync("UPDATE operations SET input = input - 'toProvider' WHERE id = $1", operation);

        using var response = await Post(StepNames.Write, operation, "arn:crash-logged");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("STEP_CRASHED", (string?)(await response.ProblemAsync())["error"]);
        var crash = Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains($"operation {operation} crashed"));
        Assert.Equal(workspace, crash.ScopeFields["workspace_id"]);
        Assert.Equal(StepNames.Write, crash.ScopeFields["step"]);
        Assert.Equal(operation, crash.ScopeFields["operation_id"]);
    }

    [Fact]
    public async Task The_steps_role_serves_no_public_api()
    {
        using var response = await host.Factory.AdminClient().GetAsync("/workspaces");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task<JsonObject> PostStepAsync(string step, Guid operation, string executionArn)
    {
        using var response = await Post(step, operation, executionArn);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{step} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private Task<HttpResponseMessage> Post(string step, Guid operation, string executionArn) =>
        host.Factory.ClientWithToken(null).SendJsonAsync(HttpMethod.Post, "/internal/steps",
            new JsonObject { ["step"] = step, ["operation_id"] = operation.ToString(), ["execution_arn"] = executionArn }.ToJsonString());

    /// <summary>The app in role <c>steps</c> (as the operation-steps function runs it), its steps scripted and its logs captured.</summary>
    public sealed class StepsHost : IAsyncLifetime
    {
        public TestDatabase Database { get; } = new();

        public ApiFactory Factory { get; private set; } = null!;

        public ScenarioSide Side { get; private set; } = null!;

        public ScopeCapturingLoggerProvider Logs { get; } = new();

        public async Task InitializeAsync()
        {
            await Database.InitializeAsync();
            Factory = new ApiFactory(Database, new Dictionary<string, string?>
            {
                ["Molecule:Role"] = "steps",
                ["Logging:LogLevel:Molecule"] = "Information",

                // boxes boot at once, so setting a workspace up never waits on a poll
                ["Molecule:Providers:sim-east:BootSeconds"] = "0",
                ["Molecule:Providers:sim-east:DescribeLagSeconds"] = "0",
                ["Molecule:Providers:sim-west:BootSeconds"] = "0",
                ["Molecule:Providers:sim-west:DescribeLagSeconds"] = "0",
            }, services =>
            {
                services.AddSingleton(sp => new ScriptedStepExecutor(sp.GetRequiredService<StepExecutor>()));
                services.AddSingleton<IStepExecutor>(sp => sp.GetRequiredService<ScriptedStepExecutor>());
                services.AddSingleton<ILoggerProvider>(Logs);
            });
            Side = ScenarioSide.From(Database, Factory.Services);
        }

        public async Task DisposeAsync()
        {
            await Factory.DisposeAsync();
            await Database.DisposeAsync();
        }
    }
}
