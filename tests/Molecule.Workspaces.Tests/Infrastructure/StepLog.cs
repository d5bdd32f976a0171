using Molecule.Workspaces.Operations;

namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>
/// A shared record of step executions, written by any number of <see cref="LoggingStepExecutor"/>s (one per replica
/// or host), so a test can see which execution ran which step of which operation, and when: enough to tell whether
/// two replicas ever walked one operation at the same time.
/// </summary>
public sealed class StepLog
{
    private readonly Lock gate = new();
    private readonly List<StepRun> runs = [];

    public IReadOnlyList<StepRun> Runs
    {
        get
        {
            lock (gate)
            {
                return runs.ToList();
            }
        }
    }

    public IStepExecutor Wrap(IStepExecutor inner) => new LoggingStepExecutor(inner, this);

    /// <summary>
    /// Operations that two executions acted for with overlapping steps: an interval of one execution's answered steps
    /// (first start to last end) that intersects another's. Steps that threw (a cut-off database) changed nothing and
    /// are not counted.
    /// </summary>
    public IReadOnlyList<Guid> OperationsWalkedByTwoAtOnce()
    {
        var overlapping = new List<Guid>();
        foreach (var op in Runs.Where(r => r.Outcome is not null).GroupBy(r => r.OperationId))
        {
            var spans = op.GroupBy(r => r.ExecutionId)
                .Select(e => (Start: e.Min(r => r.StartedAt), End: e.Max(r => r.EndedAt)))
                .OrderBy(s => s.Start)
                .ToList();
            for (var i = 1; i < spans.Count; i++)
            {
                if (spans[i].Start < spans[i - 1].End)
                {
                    overlapping.Add(op.Key);
                    break;
                }
            }
        }

        return overlapping;
    }

    private void Add(StepRun run)
    {
        lock (gate)
        {
            runs.Add(run);
        }
    }

    private sealed class LoggingStepExecutor(IStepExecutor inner, StepLog log) : IStepExecutor
    {
        public async Task<StepResult> RunAsync(string step, Guid operationId, string executionId, CancellationToken ct)
        {
            var started = DateTimeOffset.UtcNow;
            string? outcome = null;
            try
            {
                var result = await inner.RunAsync(step, operationId, executionId, ct);
                outcome = result.Outcome;
                return result;
            }
            finally
            {
                log.Add(new StepRun(operationId, executionId, step, outcome, started, DateTimeOffset.UtcNow));
            }
        }
    }
}

/// <summary>One step execution: <see cref="Outcome"/> is null when the step threw.</summary>
public sealed record StepRun(Guid OperationId, string ExecutionId, string Step, string? Outcome, DateTimeOffset StartedAt, DateTimeOffset EndedAt);
