using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Sweeps;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Sweeps;

/// <summary>The orphan sweeper wired on a harness, and the arrangements its tests share.</summary>
internal static class SweepTestKit
{
    public static readonly TimeSpan PastLeakGrace = new SweepOptions().LeakGrace + TimeSpan.FromMinutes(1);

    /// <summary>Past the reconciler's grace (<see cref="ReconcilerSettings(bool, bool)"/>): an online row unchanged this long is checked.</summary>
    public static readonly TimeSpan PastReconcileGrace = ReconcilerSettings().Grace + TimeSpan.FromMinutes(1);

    /// <summary>The harness's two providers with <paramref name="east"/> (a watched or failing wrapper of sim-east) in sim-east's place.</summary>
    public static ProviderRegistry WithEast(this OperationHarness harness, IComputeProvider east) => new([east, harness.West], "sim-east");

    /// <summary>The orphan sweeper as the harness's registration wires it, or on other providers (a watched or failing one).</summary>
    public static OrphanSweeper NewOrphanSweeper(this OperationHarness harness, ProviderRegistry? providers = null) =>
        providers is null
            ? harness.OrphanSweeper()
            : new(harness.Database.DataSource, harness.Workspaces, harness.PendingTerminations, harness.Events,
                providers, new BatchTerminator(providers, harness.Time), harness.Services.GetRequiredService<DeploymentIdentity>(),
                harness.Services.GetRequiredService<SweepOptions>(), harness.Time, NullLogger<OrphanSweeper>.Instance);

    /// <summary>
    /// The reconciler's settings the tests use: the production windows, act mode, the re-confirm waited for inside the
    /// tick. The tick budget is an hour: a test's driver steps the fake clock whenever the work is not done yet, much
    /// faster than a loaded machine runs its statements, and the budget's share for new pages must never cut a test's walk.
    /// </summary>
    public static ReconcilerSettings ReconcilerSettings(bool observe = false, bool reconfirmWithinTick = true) =>
        new(TimeSpan.FromSeconds(120), observe, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), reconfirmWithinTick)
        {
            TickBudget = TimeSpan.FromHours(1),
        };

    public static InstanceReconciler NewReconciler(this OperationHarness harness, ReconcilerSettings? settings = null, ProviderRegistry? providers = null) =>
        new(harness.Database.DataSource, providers ?? harness.Providers, harness.Starter, harness.Services.GetRequiredService<OperationCompensation>(),
            harness.Events, harness.Dispatcher, settings ?? ReconcilerSettings(), harness.Time, NullLogger<InstanceReconciler>.Instance);

    /// <summary>Starts a box directly in the sim, tagged for the test deployment and, when given, a workspace and an operation.</summary>
    public static Task<string> ProvisionBoxAsync(this OperationHarness harness, SimProvider sim, Guid? workspaceId = null, Guid? operationId = null)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (workspaceId is { } ws)
        {
            tags[ProviderTags.WorkspaceId] = ws.ToString();
        }

        if (operationId is { } op)
        {
            tags[ProviderTags.OperationId] = op.ToString();
        }

        return sim.ProvisionAsync(new InstanceSpec(null, Compute.Ephemeral, null), Guid.NewGuid().ToString(), tags, CancellationToken.None);
    }

    /// <summary>Queues a box for termination, due now or after <paramref name="dueIn"/>.</summary>
    public static async Task EnqueueAsync(this OperationHarness harness, string provider, string instanceId, Guid? workspaceId,
        string reason, TimeSpan? dueIn = null)
    {
        await using (var conn = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await harness.PendingTerminations.EnqueueAsync(conn, null, provider, instanceId, workspaceId, reason, null, CancellationToken.None);
        }

        if (dueIn is { } delay)
        {
            await harness.Database.ExecuteAsync("UPDATE pending_terminations SET next_attempt_at = $1 WHERE provider = $2 AND instance_id = $3",
                harness.Time.GetUtcNow() + delay, provider, instanceId);
        }
    }

    /// <summary>
    /// <paramref name="count"/> removed workspaces, each naming a running sim box of <paramref name="provider"/>, in two
    /// statements (generate_series), as the orphan sweeper's many-items cases need them.
    /// </summary>
    public static async Task SeedRemovedRowsWithBoxesAsync(this OperationHarness harness, int count, string provider, string prefix)
    {
        var now = harness.Time.GetUtcNow();
        await harness.SeedRunningBoxesAsync(count, provider, prefix, now);
        await harness.Database.ExecuteAsync("""
            INSERT INTO workspaces (id, name, status, runtime, compute, instance_id, instance_provider, created_at, updated_at, removed_at)
            SELECT gen_random_uuid(), $2 || '-' || g, 'removed', 'agent', jsonb_build_object('provider', $1),
                   'i-' || $2 || '-' || g, $1, $3, $3, $3
              FROM generate_series(1, $4) AS g
            """, provider, prefix, now, count);
    }

    /// <summary>
    /// <paramref name="count"/> unclaimed online workspaces of <paramref name="provider"/>, each over a running box, last
    /// changed an hour ago (past the reconcile grace); returns their ids in id order, the order the reconciler walks them.
    /// </summary>
    public static async Task<IReadOnlyList<(Guid Id, string InstanceId)>> SeedOnlineRowsWithBoxesAsync(this OperationHarness harness, int count,
        string provider, string prefix)
    {
        var longAgo = harness.Time.GetUtcNow().AddHours(-1);
        await harness.SeedRunningBoxesAsync(count, provider, prefix, longAgo);
        await harness.Database.ExecuteAsync("""
            INSERT INTO workspaces (id, name, status, runtime, compute, instance_id, instance_provider, created_at, updated_at)
            SELECT gen_random_uuid(), $2 || '-' || g, 'online', 'agent', jsonb_build_object('provider', $1),
                   'i-' || $2 || '-' || g, $1, $3, $3
              FROM generate_series(1, $4) AS g
            """, provider, prefix, longAgo, count);
        var rows = new List<(Guid, string)>();
        await using var cmd = harness.Database.DataSource.CreateCommand("SELECT id, instance_id FROM workspaces WHERE name LIKE $1 || '-%' ORDER BY id");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = prefix });
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetGuid(0), reader.GetString(1)));
        }

        return rows;
    }

    /// <summary><paramref name="count"/> running sim boxes of <paramref name="provider"/> tagged for the test deployment, <c>i-PREFIX-N</c>, up since <paramref name="at"/>.</summary>
    private static Task SeedRunningBoxesAsync(this OperationHarness harness, int count, string provider, string prefix, DateTimeOffset at) =>
        harness.Database.ExecuteAsync("""
            INSERT INTO sim_instances (provider, instance_id, client_token, instance_type, state, tags, launched_at, running_at, visible_at)
            SELECT $1, 'i-' || $2 || '-' || g, $2 || '-' || g, 'sim.medium', 'running',
                   jsonb_build_object('molecule:deployment', 'test'), $3, $3, $3
              FROM generate_series(1, $4) AS g
            """, provider, prefix, at, count);

    /// <summary>Removed rows that still name a box.</summary>
    public static Task<long> RemovedRowsWithBoxAsync(this OperationHarness harness) =>
        harness.Database.ScalarAsync<long>("SELECT count(*) FROM workspaces WHERE status = 'removed' AND instance_id IS NOT NULL");

    /// <summary>The cascade delete as the harness's registration wires it, or on other providers (a hanging one) or options (a shorter budget).</summary>
    public static WorkspaceDeleter NewDeleter(this OperationHarness harness, ProviderRegistry? providers = null, DeleteOptions? options = null) =>
        providers is null && options is null
            ? harness.Services.GetRequiredService<WorkspaceDeleter>()
            : new(harness.Database.DataSource, harness.Workspaces, harness.Events, new BatchTerminator(providers ?? harness.Providers, harness.Time),
                harness.Time, options ?? harness.Services.GetRequiredService<DeleteOptions>(), NullLogger<WorkspaceDeleter>.Instance);

    /// <summary>Runs a cascade delete, stepping the fake clock through its retry delays.</summary>
    public static async Task<DeleteResult> DeleteAsync(this OperationHarness harness, Guid id)
    {
        var delete = harness.NewDeleter().DeleteAsync(id, confirmed: true, null, CancellationToken.None);
        while (!delete.IsCompleted)
        {
            await Task.WhenAny(delete, Task.Delay(5));
            if (!delete.IsCompleted)
            {
                harness.Time.Advance(TimeSpan.FromMilliseconds(250));
            }
        }

        return await delete;
    }
}

/// <summary>
/// A provider that lets a test step in around the real one: run something just before a terminate (a write racing the
/// sweeper's read and write), or answer the list differently (a provider whose list is wrong).
/// </summary>
internal sealed class InterceptingProvider(IComputeProvider inner) : IComputeProvider
{
    public Func<IReadOnlyCollection<string>, Task>? BeforeTerminate { get; set; }

    public Func<IReadOnlyCollection<string>, CancellationToken, Task>? BeforeDescribe { get; set; }

    public Func<string?, CancellationToken, Task<ManagedInstancePage>>? ListOverride { get; set; }

    public string Name => inner.Name;

    public string Type => inner.Type;

    public Task<string> ProvisionAsync(InstanceSpec spec, string idempotencyToken, IReadOnlyDictionary<string, string> tags, CancellationToken ct) =>
        inner.ProvisionAsync(spec, idempotencyToken, tags, ct);

    public async Task<IReadOnlyDictionary<string, InstanceState>> DescribeAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct)
    {
        if (BeforeDescribe is { } before)
        {
            await before(instanceIds, ct);
        }

        return await inner.DescribeAsync(instanceIds, ct);
    }

    public async Task<IReadOnlyDictionary<string, TerminateResult>> TerminateAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct)
    {
        if (BeforeTerminate is { } before)
        {
            await before(instanceIds);
        }

        return await inner.TerminateAsync(instanceIds, ct);
    }

    public Task<ManagedInstancePage> ListManagedAsync(string? pageToken, CancellationToken ct) =>
        ListOverride?.Invoke(pageToken, ct) ?? inner.ListManagedAsync(pageToken, ct);
}

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells the test when the code under test starts waiting on it, so the test
/// advances the clock only once the scheduler is really waiting: stepping never races it, and nothing sleeps.
/// </summary>
internal sealed class WaitWatchingClock() : FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero))
{
    private readonly Channel<TimeSpan> waits = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            waits.Writer.TryWrite(dueTime);
        }

        return new WatchedTimer(timer, waits.Writer);
    }

    /// <summary>Returns once the code under test has started a wait of exactly <paramref name="dueTime"/> (fails after 10 s of real time).</summary>
    public async Task WaitForWaitAsync(TimeSpan dueTime)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (await waits.Reader.ReadAsync(limit.Token) != dueTime)
            {
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            throw new TimeoutException($"nothing started a wait of {dueTime} within 10 s");
        }
    }

    private sealed class WatchedTimer(ITimer inner, ChannelWriter<TimeSpan> waits) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                waits.TryWrite(dueTime);
            }

            return inner.Change(dueTime, period);
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

/// <summary>A sweep whose every tick the test scripts: it records when each tick started and how many ran at once.</summary>
internal sealed class ScriptedSweep(TimeProvider clock, Func<int, CancellationToken, Task<SweepResult>> tick) : ISweep
{
    private readonly Lock gate = new();
    private readonly List<DateTimeOffset> starts = [];
    private readonly Channel<int> started = Channel.CreateUnbounded<int>();
    private int running;

    public static SweepResult Done { get; } = new([new("found", 0)], [], BudgetExhausted: false);

    public string Name => "scripted";

    public int MostAtOnce { get; private set; }

    public IReadOnlyList<DateTimeOffset> Starts
    {
        get
        {
            lock (gate)
            {
                return starts.ToList();
            }
        }
    }

    public async Task<SweepResult> RunOnceAsync(CancellationToken ct)
    {
        int number;
        lock (gate)
        {
            starts.Add(clock.GetUtcNow());
            number = starts.Count;
            MostAtOnce = Math.Max(MostAtOnce, ++running);
        }

        started.Writer.TryWrite(number);
        try
        {
            return await tick(number, ct);
        }
        finally
        {
            lock (gate)
            {
                running--;
            }
        }
    }

    /// <summary>Returns once tick <paramref name="number"/> has started (fails after 10 s of real time).</summary>
    public async Task WaitForTickAsync(int number)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await started.Reader.ReadAsync(limit.Token) < number)
        {
        }
    }
}

/// <summary>An <see cref="ILogger{T}"/> that keeps what was logged, for asserting that a failure was reported.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly Lock gate = new();
    private readonly List<(LogLevel Level, string Message, Exception? Exception)> entries = [];

    public IReadOnlyList<(LogLevel Level, string Message, Exception? Exception)> Entries
    {
        get
        {
            lock (gate)
            {
                return entries.ToList();
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (gate)
        {
            entries.Add((logLevel, formatter(state, exception), exception));
        }
    }
}
