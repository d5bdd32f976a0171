using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Hosting;

/// <summary>The Lambda roles log one JSON object a line, scopes included; the local role keeps the readable format.</summary>
public sealed class LambdaLoggingTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Theory]
    [InlineData("api")]
    [InlineData("migrate")]
    public async Task A_lambda_role_logs_single_line_json_with_scopes(string role)
    {
        // an AWS role hands operations to the dispatch table; nothing here dispatches, so no table is reachable
        await using var factory = new ApiFactory(database, new Dictionary<string, string?>
        {
            ["Molecule:Role"] = role,
            ["Molecule:MigrateOnStart"] = "false",
        }.WithUnreachableDispatchTable());

        var console = factory.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        var json = factory.Services.GetRequiredService<IOptionsMonitor<JsonConsoleFormatterOptions>>().CurrentValue;

        Assert.Equal(ConsoleFormatterNames.Json, console.FormatterName);
        Assert.True(json.IncludeScopes);
        Assert.False(json.JsonWriterOptions.Indented);
        Assert.True(json.UseUtcTimestamp);
    }

    [Fact]
    public async Task The_local_role_keeps_the_readable_console()
    {
        await using var factory = new ApiFactory(database);

        var console = factory.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;

        Assert.NotEqual(ConsoleFormatterNames.Json, console.FormatterName);
    }
}
