using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// The local dispatcher: walks <see cref="OperationWalk"/> in-process, with the waits the steps ask for and the
/// infrastructure retry the state machine's Task <c>Retry</c> gives in AWS. Off every request's lifetime, so a
/// client that disconnects strands nothing. On start it resumes every active operation under the same stable
/// execution id, so <c>begin</c> lets it continue where the last process stopped.
/// </summary>
public sealed class LocalOperationRunner(
    IStepExecutor executor,
    OperationStore operations,
    OperationOptions options,
    TimeProvider time,
    ILogger<LocalOperationRunner> logger) : BackgroundService, IOperationDispatcher
{
    private const int ResumePageSize = 500;

    private readonly Channel<Guid> queue = Channel.CreateUnbounded<Guid>();
    private readonly ConcurrentDictionary<Guid, Task> walking = new();

    public static string ExecutionIdOf(Guid operationId) => $"local:{operationId}";

    public async Task DispatchAsync(Guid operationId, CancellationToken ct)
    {
        await operations.MarkDispatchedAsync(operationId, ct);
        queue.Writer.TryWrite(operationId);
    }

    /// <summary>Walks one operation to its end on the caller's task (tests; the service uses the queue).</summary>
    public Task WalkAsync(Guid operationId, CancellationToken ct) => WalkCoreAsync(operationId, ExecutionIdOf(operationId), ct);

    /// <summary>
    /// Walks one operation under another execution id, as a second Step Functions execution of the same operation
    /// would (tests of duplicate executions; this runner itself always uses <see cref="ExecutionIdOf"/>).
    /// </summary>
    public Task WalkAsync(Guid operationId, string executionId, CancellationToken ct) => WalkCoreAsync(operationId, executionId, ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(Math.Max(1, options.LocalConcurrency));
        try
        {
            await ResumeActiveAsync(stoppingToken);
            await foreach (var id in queue.Reader.ReadAllAsync(stoppingToken))
            {
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
                        await WalkCoreAsync(id, ExecutionIdOf(id), stoppingToken);
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
            await Task.WhenAll(walking.Values);
        }
    }

    private async Task ResumeActiveAsync(CancellationToken ct)
    {
        // one bounded page: operations beyond it are picked up by the reconciler's outbox repair
        var active = await operations.ListActiveIdsAsync(ResumePageSize, ct);
        foreach (var id in active)
        {
            queue.Writer.TryWrite(id);
        }

        if (active.Count > 0)
        {
            logger.LogInformation("resuming {count} active operations", active.Count);
        }
    }

    private async Task WalkCoreAsync(Guid operationId, string executionId, CancellationToken ct)
    {
        string? step = StepNames.Begin;
        var infrastructureFailures = 0;
        while (step is not null)
        {
            StepResult result;
            try
            {
                result = await executor.RunAsync(step, operationId, executionId, ct);
                infrastructureFailures = 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
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
                    return;
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
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, time, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // shutting down: the operation stays active and is resumed by the next process
        }
    }
}
