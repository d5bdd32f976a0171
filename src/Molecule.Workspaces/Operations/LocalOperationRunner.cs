using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// The local dispatcher: walks <see cref="OperationWalk"/> in-process, with the waits the steps ask for and the
/// infrastructure retry the state machine's Task <c>Retry</c> gives in AWS. Off every request's lifetime, so a
/// client that disconnects strands nothing.
/// <para>
/// Several processes (replicas) may share one database (DESIGN §5.4). Each has its own <see cref="ReplicaId"/> and
/// walks an operation only while it holds the operation's lease (<see cref="OperationLeaseStore"/>), under the
/// execution id <c>local:&lt;replica&gt;:&lt;operation&gt;</c>, which taking the lease makes the operation's owner. It
/// takes the lease when it dispatches, renews it before every step and every third of the lease, and releases it
/// when the walk ends or the process stops gracefully; a crash leaves it to expire. At start, and then every third of
/// the lease, it adopts every active operation whose lease is free or expired, in keyset pages: that is how a
/// restarted process resumes, and how a live replica takes over a dead one's operations. A replica that lost a lease
/// (only slow, not dead) stops at its next renewal, and any step it still sends finds another owner and aborts.
/// </para>
/// </summary>
public sealed class LocalOperationRunner(IStepExecutor executor, OperationStore operations, OperationLeaseStore leases, OperationOptions options,
    TimeProvider time, ILogger<LocalOperationRunner> logger) : BackgroundService, IOperationDispatcher
{
    // a stop must not hang on a database that is gone: the leases then simply expire
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<Guid> queue = Channel.CreateUnbounded<Guid>();

    // the leases this replica holds (queued or walking), each with the token that stops its walk when the lease is lost
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> held = new();
    private readonly ConcurrentDictionary<Guid, Task> walking = new();
    private volatile bool running;

    /// <summary>This process's name among the replicas: the machine's name and a random part, new at every start.</summary>
    public string ReplicaId { get; } = NewReplicaId();

    /// <summary>Operations adopted per statement of a scan. <value>The default is 500.</value></summary>
    public int AdoptPageSize { get; init; } = 500;

    /// <summary>The execution id under which this replica walks an operation: <see cref="ExecutionIdPrefix"/> and the operation id.</summary>
    public string ExecutionIdOf(Guid operationId) => ExecutionIdPrefix + operationId.ToString("D");

    /// <summary><c>local:&lt;replica&gt;:</c>, what every execution id of this replica starts with.</summary>
    public string ExecutionIdPrefix => $"local:{ReplicaId}:";

    private TimeSpan RenewEvery => options.Lease / 3;

    /// <summary>
    /// Counts the hand-off and, while this replica walks operations, takes the lease at once and queues the walk. A
    /// process that walks nothing (role <c>steps</c>, <c>migrate</c>; a runner stopping) takes no lease: the
    /// operation stays free for the replicas that do.
    /// </summary>
    public async Task DispatchAsync(Guid operationId, CancellationToken ct)
    {
        await operations.MarkDispatchedAsync(operationId, ct);
        if (running && await TakeAsync(operationId, ct))
        {
            queue.Writer.TryWrite(operationId);
        }
    }

    /// <summary>
    /// Walks one operation to its end on the caller's task, holding its lease (tests and benchmarks; the service uses
    /// its queue). Does nothing when another replica holds the lease.
    /// </summary>
    public async Task WalkAsync(Guid operationId, CancellationToken ct)
    {
        if (await TakeAsync(operationId, ct))
        {
            await WalkHeldAsync(operationId, ct);
        }
    }

    /// <summary>
    /// Walks one operation under another execution id and without a lease, as a second Step Functions execution of
    /// the same operation would (tests of duplicate executions; this runner itself always uses <see cref="ExecutionIdOf"/>).
    /// </summary>
    public Task WalkAsync(Guid operationId, string executionId, CancellationToken ct) => WalkCoreAsync(operationId, executionId, leased: false, ct);

    /// <summary>
    /// One adoption scan: takes every active operation whose lease is free or expired, page by page, and queues it to
    /// be walked. Runs at start (the resume) and every third of the lease. Returns how many it took.
    /// </summary>
    public async Task<int> AdoptAsync(CancellationToken ct)
    {
        var adopted = 0;
        LeaseKey? after = null;
        while (true)
        {
            var page = await leases.AdoptPageAsync(ReplicaId, ExecutionIdPrefix, options.Lease, after, AdoptPageSize, ct);
            foreach (var taken in page)
            {
                Hold(taken.Id);
                queue.Writer.TryWrite(taken.Id);
            }

            adopted += page.Count;
            if (page.Count < AdoptPageSize)
            {
                break;
            }

            after = page[^1];
        }

        if (adopted > 0)
        {
            logger.LogInformation("replica {replica_id} adopted {count} active operations", ReplicaId, adopted);
        }

        return adopted;
    }

    /// <summary>
    /// Renews every lease this replica holds; a lease another replica has taken over stops its walk here (the walk's
    /// next step would abort anyway). Runs every third of the lease.
    /// </summary>
    public async Task RenewAsync(CancellationToken ct)
    {
        var mine = held.Keys.ToList();
        if (mine.Count == 0)
        {
            return;
        }

        var renewed = await leases.RenewAsync(ReplicaId, mine, options.Lease, ct);
        foreach (var id in mine.Where(id => !renewed.Contains(id)))
        {
            if (held.TryRemove(id, out var lost))
            {
                logger.LogWarning("lease of operation {operation_id} was taken over by another replica; replica {replica_id} stopped walking it", id, ReplicaId);
                await lost.CancelAsync();
            }
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // before the host serves requests: from here a dispatch takes the lease (ExecuteAsync starts on another thread)
        running = true;
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("replica {replica_id} walks operations; lease {lease_seconds} s", ReplicaId, options.LeaseSeconds);
        using var slots = new SemaphoreSlim(Math.Max(1, options.LocalConcurrency));
        var heartbeat = Task.Run(() => HeartbeatAsync(stoppingToken), CancellationToken.None);
        try
        {
            await ResumeAsync(stoppingToken);
            await foreach (var id in queue.Reader.ReadAllAsync(stoppingToken))
            {
                if (!held.ContainsKey(id))
                {
                    // a duplicate entry of a walk that has ended, or a lease lost while queued: not ours to walk
                    continue;
                }

                await slots.WaitAsync(stoppingToken);

                // registered before the walk starts, so a walk that ends at once cannot leave a stale entry behind
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (!walking.TryAdd(id, done.Task))
                {
                    slots.Release();
                    continue;
                }

                _ = Task.Run(async () =>
                {
                    try
                    {
                        await WalkHeldAsync(id, stoppingToken);
                    }
                    catch (Exception ex)
                    {
                        logger.LogError(ex, "walk of operation {operation_id} stopped unexpectedly", id);
                    }
                    finally
                    {
                        walking.TryRemove(id, out _);
                        slots.Release();
                        done.TrySetResult();
                    }
                }, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            running = false;
            await Task.WhenAll(walking.Values);
            await heartbeat;

            // a graceful stop hands what is left (queued, not yet walked) to the other replicas' next scan at once
            await ReleaseAsync(held.Keys.ToList());
            held.Clear();
        }
    }

    /// <summary>The adoption at start; a database that is not there yet only delays it to the first heartbeat.</summary>
    private async Task ResumeAsync(CancellationToken stoppingToken)
    {
        try
        {
            await AdoptAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "replica {replica_id} could not resume active operations at start; its heartbeat adopts them", ReplicaId);
        }
    }

    private async Task HeartbeatAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RenewEvery, time, stoppingToken);
                await RenewAsync(stoppingToken);
                await AdoptAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                // a database blip: a lease not renewed now is renewed at the next beat, well before it expires
                logger.LogWarning(ex, "replica {replica_id} could not renew its leases or adopt operations", ReplicaId);
            }
        }
    }

    private async Task<bool> TakeAsync(Guid operationId, CancellationToken ct)
    {
        if (!await leases.TryTakeAsync(operationId, ReplicaId, ExecutionIdPrefix, options.Lease, ct))
        {
            logger.LogDebug("operation {operation_id} is walked by another replica or has ended", operationId);
            return false;
        }

        Hold(operationId);
        return true;
    }

    private void Hold(Guid operationId) => held.TryAdd(operationId, new CancellationTokenSource());

    private async Task WalkHeldAsync(Guid operationId, CancellationToken stoppingToken)
    {
        if (!held.TryGetValue(operationId, out var lease))
        {
            return;
        }

        using var walk = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lease.Token);
        var end = await WalkCoreAsync(operationId, ExecutionIdOf(operationId), leased: true, walk.Token);
        if (end is WalkEnd.Ended || (end is WalkEnd.Stopped && !lease.IsCancellationRequested))
        {
            // the walk ended, or the process is stopping: free the lease at once for whoever comes next
            await ReleaseAsync([operationId]);
        }

        // otherwise the lease is someone else's now, or the walk gave up (as the state machine's RollbackFailed does):
        // it is dropped, not released, so the operation is walked again only once the lease has expired
        held.TryRemove(new KeyValuePair<Guid, CancellationTokenSource>(operationId, lease));
    }

    private async Task ReleaseAsync(IReadOnlyCollection<Guid> operationIds)
    {
        if (operationIds.Count == 0)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(ReleaseTimeout);
            await leases.ReleaseAsync(ReplicaId, operationIds, timeout.Token);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "replica {replica_id} could not release {count} leases; they expire", ReplicaId, operationIds.Count);
        }
    }

    private async Task<WalkEnd> WalkCoreAsync(Guid operationId, string executionId, bool leased, CancellationToken ct)
    {
        string? step = StepNames.Begin;
        var infrastructureFailures = 0;
        while (step is not null)
        {
            StepResult result;
            try
            {
                // renewed before every step, which also fences this walk: a lease taken over means another replica
                // owns the operation now, and this walk sends nothing more
                if (leased && !(await leases.RenewAsync(ReplicaId, [operationId], options.Lease, ct)).Contains(operationId))
                {
                    logger.LogWarning("lease of operation {operation_id} is no longer replica {replica_id}'s; stopped walking it", operationId, ReplicaId);
                    return WalkEnd.LeaseLost;
                }

                result = await executor.RunAsync(step, operationId, executionId, ct);
                infrastructureFailures = 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return WalkEnd.Stopped;
            }
            catch (Exception)
            {
                // the state machine's Task Retry, then its Catch → Rollback (the executor has logged the crash itself)
                infrastructureFailures++;
                logger.LogWarning("step {step} of operation {operation_id} crashed on attempt {attempt}", step, operationId, infrastructureFailures);
                if (!RetrySchedule.Infrastructure.IsExhausted(infrastructureFailures))
                {
                    await DelayAsync(RetrySchedule.Infrastructure.DelayAfter(infrastructureFailures), ct);
                    continue;
                }

                if (step == StepNames.Rollback)
                {
                    return WalkEnd.GaveUp;
                }

                step = StepNames.Rollback;
                infrastructureFailures = 0;
                continue;
            }

            var next = OperationWalk.Next(step, result.Outcome);
            if (next == step && result.Wait is { } wait)
            {
                await DelayAsync(wait, ct);
            }

            step = next;
        }

        return WalkEnd.Ended;
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, time, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopping (or the lease lost): the loop's next step sees the token and ends the walk
        }
    }

    private enum WalkEnd
    {
        /// <summary>The walk reached its end (the operation ended, or this execution was told to abort).</summary>
        Ended,

        /// <summary>The token stopped it: the process is stopping, or the lease was lost meanwhile.</summary>
        Stopped,

        /// <summary>Renewing before a step found another replica holding the lease.</summary>
        LeaseLost,

        /// <summary>Rollback crashed on every attempt of the infrastructure retry.</summary>
        GaveUp,
    }

    private static string NewReplicaId()
    {
        var host = new string(Environment.MachineName.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.').ToArray());
        return $"{(host.Length == 0 ? "replica" : host)}-{Guid.NewGuid().ToString("N")[..12]}";
    }
}
