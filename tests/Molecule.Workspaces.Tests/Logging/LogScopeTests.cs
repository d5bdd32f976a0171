using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Logging;

/// <summary>Every log entry a step writes carries its operation and workspace ids as scope properties.</summary>
public sealed class LogScopeTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task A_step_logs_inside_a_scope_holding_its_operation_and_workspace_ids()
    {
        var workspace = await harness.CreateOnlineAsync("scoped-restart");
        var op = await harness.StartAsync(workspace.Id, OperationKind.Restart);
        var captured = new CapturingLogger<OperationStep>();
        var executor = new StepExecutor(harness.Context with { Logger = captured });

        await executor.RunAsync(StepNames.Begin, op, "arn:scoped", CancellationToken.None);

        var entry = Assert.Single(captured.Entries, e => e.Message.StartsWith("step begin", StringComparison.Ordinal));
        Assert.Equal(op, entry.Scope["operation_id"]);
        Assert.Equal(workspace.Id, entry.Scope["workspace_id"]);
    }

    [Fact]
    public async Task Nothing_outside_a_step_inherits_its_scope()
    {
        var workspace = await harness.CreateOnlineAsync("scope-ends");
        var op = await harness.StartAsync(workspace.Id, OperationKind.Restart);
        var captured = new CapturingLogger<OperationStep>();
        var executor = new StepExecutor(harness.Context with { Logger = captured });

        await executor.RunAsync(StepNames.Begin, op, "arn:scope-ends", CancellationToken.None);
        captured.LogInformation("after the step");

        Assert.Empty(Assert.Single(captured.Entries, e => e.Message == "after the step").Scope);
    }

    /// <summary>Records each entry with the flattened properties of every scope open when it was written.</summary>
    private sealed class CapturingLogger<T> : ILogger<T>
    {
        private readonly LoggerExternalScopeProvider scopes = new();

        public ConcurrentQueue<(string Message, Dictionary<string, object?> Scope)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scope = new Dictionary<string, object?>();
            scopes.ForEachScope((value, into) =>
            {
                if (value is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, item) in pairs)
                    {
                        into[key] = item;
                    }
                }
            }, scope);
            scope.Remove("{OriginalFormat}");
            Entries.Enqueue((formatter(state, exception), scope));
        }
    }
}
