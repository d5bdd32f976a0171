using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Hosting;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Store;
using Molecule.Workspaces.Sweeps;

namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>
/// The library wired as the host wires it (<see cref="MoleculeWorkspacesRegistration.AddMoleculeWorkspaces"/>), on a
/// real database, with its seams replaced: a <see cref="FakeTimeProvider"/> so every retry delay, poll and claim window
/// is stepped, never slept; two sim providers, <c>sim-east</c> and <c>sim-west</c>, with no latency, no boot time and no
/// describe lag unless a test sets them; and a dispatcher that records instead of walking (tests walk themselves).
/// </summary>
public sealed class OperationHarness
{
    public OperationHarness(TestDatabase database, Action<string, SimProviderOptions>? configureSim = null)
    {
        Database = database;
        var db = database.DataSource;
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
        East = NewSim("sim-east", configureSim);
        West = NewSim("sim-west", configureSim);
        Providers = new ProviderRegistry([East, West], "sim-east");
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Molecule:DeploymentId"] = "test", ["Molecule:DefaultProvider"] = "sim-east" })
            .Build();
        var services = new ServiceCollection()
            .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddMoleculeWorkspaces(configuration, database.ConnectionString);

        // the seams, registered after the library's registrations, are the ones resolved
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton(db);
        services.AddSingleton(Providers);
        services.AddSingleton(Options);
        services.AddSingleton(Sealer);
        services.AddSingleton<RecordingDispatcher>();
        services.AddSingleton<IOperationDispatcher>(sp => sp.GetRequiredService<RecordingDispatcher>());
        Services = services.BuildServiceProvider();

        Workspaces = Services.GetRequiredService<WorkspaceStore>();
        Claims = Services.GetRequiredService<ClaimStore>();
        Operations = Services.GetRequiredService<OperationStore>();
        Dispatcher = Services.GetRequiredService<RecordingDispatcher>();
        Events = Services.GetRequiredService<EventStore>();
        PendingTerminations = Services.GetRequiredService<PendingTerminationStore>();
        Tokens = Services.GetRequiredService<TokenStore>();
        Context = Services.GetRequiredService<StepContext>();
        Executor = Services.GetRequiredService<StepExecutor>();
        Leases = Services.GetRequiredService<OperationLeaseStore>();
        Runner = Services.GetRequiredService<LocalOperationRunner>();
        Creator = Services.GetRequiredService<WorkspaceCreator>();
        Starter = Services.GetRequiredService<OperationStarter>();
    }

    /// <summary>Everything the registration wires, with this harness's seams: resolve what a test needs beyond the properties.</summary>
    public IServiceProvider Services { get; }

    public TestDatabase Database { get; }
    public FakeTimeProvider Time { get; }
    public SimProvider East { get; }
    public SimProvider West { get; }
    public ProviderRegistry Providers { get; }
    public OperationOptions Options { get; } = new();
    public WorkspaceStore Workspaces { get; }
    public ClaimStore Claims { get; }
    public OperationStore Operations { get; }
    public EventStore Events { get; }
    public PendingTerminationStore PendingTerminations { get; }
    public TokenStore Tokens { get; }
    public OperationLeaseStore Leases { get; }

    /// <summary>Seals tokens in stored create answers, with a key of this harness's own.</summary>
    public IdempotencyTokenSealer Sealer { get; } = new([System.Security.Cryptography.RandomNumberGenerator.GetBytes(IdempotencyTokenSealer.KeyBytes)]);
    public StepContext Context { get; }
    public StepExecutor Executor { get; }
    public LocalOperationRunner Runner { get; }
    public WorkspaceCreator Creator { get; }
    public OperationStarter Starter { get; }

    /// <summary>Records dispatches (counting them on the operation as the real dispatchers do); tests walk operations themselves with <see cref="WalkAsync"/>.</summary>
    public RecordingDispatcher Dispatcher { get; }

    /// <summary>Creates a workspace and returns its id and create operation id, without walking it.</summary>
    public async Task<(Guid WorkspaceId, Guid OperationId)> CreateAsync(string name = "ws", string provider = "sim-east", Guid? parentId = null)
    {
        var compute = new Compute { Provider = provider };
        var result = await Creator.CreateAsync(new NewWorkspace(name, parentId, Runtimes.Default, 1, compute, 0, 0), null, CancellationToken.None);
        Assert.Equal(CreateOutcome.Created, result.Outcome);
        return (result.Created!.WorkspaceId, result.Created.OperationId!.Value);
    }

    /// <summary>Creates a workspace and walks its create operation to the end: an online workspace with a box.</summary>
    public async Task<Workspace> CreateOnlineAsync(string name = "ws", string provider = "sim-east", Guid? parentId = null)
    {
        var (id, op) = await CreateAsync(name, provider, parentId);
        await WalkAsync(op);
        var workspace = await Workspaces.GetAsync(id, CancellationToken.None);
        Assert.Equal(WorkspaceStatus.Online, workspace!.Status);
        return workspace;
    }

    /// <summary>
    /// Walks an operation to its end with the local runner's walk, stepping the fake clock whenever the walk waits.
    /// Bounded: fails the test if the walk does not end within <paramref name="maxFakeTime"/> of fake time.
    /// </summary>
    public Task WalkAsync(Guid operationId, TimeSpan? maxFakeTime = null) =>
        DriveAsync(Runner.WalkAsync(operationId, CancellationToken.None), maxFakeTime ?? TimeSpan.FromHours(1), $"operation {operationId}");

    /// <summary>Awaits <paramref name="work"/> (say, walks of a runner a test built itself) while stepping the fake clock, as <see cref="WalkAsync"/> does.</summary>
    public Task DriveAsync(Task work, TimeSpan? maxFakeTime = null) => DriveAsync(work, maxFakeTime ?? TimeSpan.FromHours(1), "work");

    /// <summary>
    /// Awaits <paramref name="work"/> while stepping the fake clock in 500 ms steps whenever it is not done after a
    /// few real milliseconds, so its waits (retry delays, polls, the reconciler's re-confirm) pass without sleeping.
    /// </summary>
    public async Task<T> DriveAsync<T>(Task<T> work, TimeSpan? maxFakeTime = null)
    {
        await DriveAsync((Task)work, maxFakeTime ?? TimeSpan.FromHours(1), "work");
        return await work;
    }

    private async Task DriveAsync(Task work, TimeSpan maxFakeTime, string what)
    {
        var limit = Time.GetUtcNow() + maxFakeTime;
        while (!work.IsCompleted)
        {
            if (Time.GetUtcNow() > limit)
            {
                throw new TimeoutException($"{what} did not end within {maxFakeTime} of fake time");
            }

            await Task.WhenAny(work, Task.Delay(TimeSpan.FromMilliseconds(5)));
            if (!work.IsCompleted)
            {
                Time.Advance(TimeSpan.FromMilliseconds(500));
            }
        }

        await work;
    }

    /// <summary>The orphan sweeper as registered, on this harness's database, providers and clock.</summary>
    public OrphanSweeper OrphanSweeper() => Services.GetRequiredService<OrphanSweeper>();

    /// <summary>Starts an operation of <paramref name="kind"/> and returns its id (asserting the claim was won).</summary>
    public async Task<Guid> StartAsync(Guid workspaceId, string kind, string? targetProvider = null)
    {
        var row = await WorkspaceAsync(workspaceId);
        var result = await Starter.StartAsync(new StartRequest(workspaceId, kind, "test",
            ExpectedProvider: kind == OperationKind.SwitchProvider ? row.Compute.Provider : null, TargetProvider: targetProvider), CancellationToken.None);
        Assert.True(result.Outcome == StartOutcome.Started, $"{kind} was not started: {result.Outcome}");
        return result.OperationId!.Value;
    }

    /// <summary>Runs <paramref name="steps"/> of an operation in order under one execution id, as one walk would, outside any runner.</summary>
    public async Task RunStepsAsync(Guid operationId, string executionId, params string[] steps)
    {
        foreach (var step in steps)
        {
            await Executor.RunAsync(step, operationId, executionId, CancellationToken.None);
        }
    }

    public async Task<Operation> OperationAsync(Guid id) => (await Operations.GetAsync(id, CancellationToken.None))!;

    public async Task<Workspace> WorkspaceAsync(Guid id) => (await Workspaces.GetAsync(id, CancellationToken.None))!;

    public async Task<IReadOnlyList<string>> EventTypesAsync(Guid workspaceId) =>
        (await Events.ListForWorkspaceAsync(workspaceId, 500, CancellationToken.None)).Select(e => e.EventType).Reverse().ToList();

    /// <summary>
    /// Marks a workspace removed with SQL, leaving its box named on the row: what a delete whose terminate was
    /// exhausted leaves for the orphan sweeper.
    /// </summary>
    public Task MarkRemovedAsync(Guid id) => Database.ExecuteAsync("""
        UPDATE workspaces
           SET status = 'removed', removed_at = $2, updated_at = $2, version = version + 1,
               claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL, prior_status = NULL
         WHERE id = $1
        """, id, Time.GetUtcNow());

    /// <summary>True when the box is not terminated.</summary>
    public async Task<bool> IsAliveAsync(SimProvider sim, string instanceId) =>
        (await sim.ListAllAsync(CancellationToken.None)).Any(b => b.InstanceId == instanceId);

    /// <summary>Boxes of a provider that are not terminated.</summary>
    public async Task<IReadOnlyList<ManagedInstance>> LiveBoxesAsync(SimProvider sim) => await sim.ListAllAsync(CancellationToken.None);

    private SimProvider NewSim(string name, Action<string, SimProviderOptions>? configure)
    {
        var options = new SimProviderOptions { LatencyMs = 0, BootSeconds = 0, DescribeLagSeconds = 0 };
        configure?.Invoke(name, options);
        return new SimProvider(name, options, "test", Database.DataSource, Time);
    }
}

public sealed class RecordingDispatcher(OperationStore operations) : IOperationDispatcher
{
    private readonly List<Guid> dispatched = [];

    public IReadOnlyList<Guid> Dispatched
    {
        get
        {
            lock (dispatched)
            {
                return dispatched.ToList();
            }
        }
    }

    public async Task DispatchAsync(Guid operationId, CancellationToken ct)
    {
        await operations.MarkDispatchedAsync(operationId, ct);
        lock (dispatched)
        {
            dispatched.Add(operationId);
        }
    }
}
