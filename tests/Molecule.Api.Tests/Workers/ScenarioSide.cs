using Microsoft.Extensions.DependencyInjection;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Store;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Workers;

/// <summary>
/// One side of the state machine / local runner comparison: its own database and providers, the library objects a
/// scenario is set up with, the real steps (for setting up, outside any walk) and the scripted steps its walker goes
/// through. Both sides are set up by the same code, so they start each scenario from the same state.
/// </summary>
public sealed class ScenarioSide(
    TestDatabase database,
    WorkspaceCreator creator,
    OperationStarter starter,
    WorkspaceStore workspaces,
    ProviderRegistry providers,
    IStepExecutor realSteps,
    ScriptedStepExecutor scripted)
{
    /// <summary>
    /// The side of a host of the app (its database and what its container resolves); its walker's scripted steps are
    /// <paramref name="scripted"/>, or else the <see cref="ScriptedStepExecutor"/> the host registers.
    /// </summary>
    public static ScenarioSide From(TestDatabase database, IServiceProvider host, ScriptedStepExecutor? scripted = null) =>
        new(database, host.GetRequiredService<WorkspaceCreator>(), host.GetRequiredService<OperationStarter>(), host.GetRequiredService<WorkspaceStore>(),
            host.GetRequiredService<ProviderRegistry>(), host.GetRequiredService<StepExecutor>(), scripted ?? host.GetRequiredService<ScriptedStepExecutor>());

    public TestDatabase Database => database;

    public ScriptedStepExecutor Scripted => scripted;

    public SimFaults Faults(string provider) => ((SimProvider)providers.Get(provider)).Faults;

    /// <summary>A new workspace whose create operation is pending, walked by nobody yet.</summary>
    public async Task<(Guid WorkspaceId, Guid OperationId)> CreateAsync(string name, string provider = "sim-east")
    {
        var result = await creator.CreateAsync(new NewWorkspace(name, null, Runtimes.Default, 1, new Compute { Provider = provider }, 0, 0),
            null, CancellationToken.None);
        Assert.Equal(CreateOutcome.Created, result.Outcome);
        return (result.Created!.WorkspaceId, result.Created.OperationId!.Value);
    }

    /// <summary>An online workspace with a box, its create walked step by step outside both walkers.</summary>
    public async Task<Guid> CreateOnlineAsync(string name, string provider = "sim-east")
    {
        var (workspaceId, operationId) = await CreateAsync(name, provider);
        foreach (var step in OperationWalk.Sequence)
        {
            var result = await realSteps.RunAsync(step, operationId, $"setup:{operationId}", CancellationToken.None);
            Assert.True(result.Outcome == StepOutcome.Ok, $"setup {step} answered {result.Outcome}: {result.Error}");
        }

        return workspaceId;
    }

    public async Task<Guid> StartSwitchAsync(Guid workspaceId, string target)
    {
        var row = await workspaces.GetAsync(workspaceId, CancellationToken.None);
        var started = await starter.StartAsync(
            new StartRequest(workspaceId, OperationKind.SwitchProvider, "test", ExpectedProvider: row!.Compute.Provider, TargetProvider: target),
            CancellationToken.None);
        Assert.Equal(StartOutcome.Started, started.Outcome);
        return started.OperationId!.Value;
    }

    /// <summary>What a delete leaves when it comes first: the row removed and its claim cleared (its box left for the sweeper).</summary>
    public Task MarkRemovedAsync(Guid workspaceId) => database.ExecuteAsync("""
        UPDATE workspaces
           SET status = 'removed', removed_at = now(), updated_at = now(), version = version + 1,
               claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL, prior_status = NULL
         WHERE id = $1
        """, workspaceId);

    /// <summary>
    /// Where a scenario left the database, in terms that do not depend on ids or clocks: the operation's state, the
    /// row's status and providers, what was queued for termination and why, and the audit log's event types in order.
    /// </summary>
    public async Task<string> EndStateAsync(Guid workspaceId, Guid operationId)
    {
        var state = await database.ScalarAsync<string>("""
            SELECT concat_ws(' | ',
                'operation=' || o.state,
                'status=' || w.status,
                'provider=' || (w.compute->>'provider'),
                'instance_provider=' || coalesce(w.instance_provider, '-'),
                'has_box=' || (w.instance_id IS NOT NULL)::text,
                'claimed=' || (w.claim_id IS NOT NULL)::text,
                'queued=' || (SELECT coalesce(string_agg(p.provider || ':' || p.reason, ',' ORDER BY p.provider, p.reason), '-')
                                FROM pending_terminations p WHERE p.workspace_id = w.id))
              FROM workspaces w JOIN operations o ON o.workspace_id = w.id
             WHERE w.id = $1 AND o.id = $2
            """, workspaceId, operationId);
        var events = await database.ScalarAsync<string>("""
            SELECT string_agg(event_type, ',' ORDER BY id)
              FROM (SELECT id, event_type FROM structure_events WHERE workspace_id = $1 ORDER BY id LIMIT 500) e
            """, workspaceId);
        return $"{state} | events={events}";
    }
}
