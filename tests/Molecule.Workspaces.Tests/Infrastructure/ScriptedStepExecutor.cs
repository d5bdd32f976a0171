using Molecule.Workspaces.Operations;

namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>
/// Stands between a walker (the local runner, or the step endpoint the state machine calls) and the real steps:
/// records every (step, outcome) per operation and execution — <c>error</c> for a crash — and injects, per
/// operation, crashes (a step throws before it runs, a fixed number of times) and actions that run once before a
/// given step (a delete arriving mid-walk). Both walkers see identical faults, so their sequences can be compared.
/// </summary>
public sealed class ScriptedStepExecutor(IStepExecutor inner) : IStepExecutor
{
    public const string Crashed = "error";

    private readonly Lock gate = new();
    private readonly List<WalkedStep> walked = [];
    private readonly Dictionary<(Guid, string), int> crashes = [];
    private readonly Dictionary<(Guid, string), Func<Task>> before = [];

    /// <summary>Makes <paramref name="step"/> of <paramref name="operationId"/> throw on its next <paramref name="times"/> calls.</summary>
    public void Crash(Guid operationId, string step, int times)
    {
        lock (gate)
        {
            crashes[(operationId, step)] = times;
        }
    }

    /// <summary>Runs <paramref name="action"/> once, just before the first call of <paramref name="step"/> of <paramref name="operationId"/>.</summary>
    public void Before(Guid operationId, string step, Func<Task> action)
    {
        lock (gate)
        {
            before[(operationId, step)] = action;
        }
    }

    /// <summary>What each execution of <paramref name="operationId"/> was answered, in order, keyed by execution id.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(string Step, string Outcome)>> WalkedBy(Guid operationId)
    {
        lock (gate)
        {
            return walked.Where(w => w.OperationId == operationId)
                .GroupBy(w => w.ExecutionId)
                .ToDictionary(g => g.Key, g => (IReadOnlyList<(string, string)>)g.Select(w => (w.Step, w.Outcome)).ToList());
        }
    }

    public async Task<StepResult> RunAsync(string step, Guid operationId, string executionId, CancellationToken ct)
    {
        Func<Task>? action;
        bool crash;
        lock (gate)
        {
            before.Remove((operationId, step), out action);
            crash = crashes.TryGetValue((operationId, step), out var left) && left > 0;
            if (crash)
            {
                crashes[(operationId, step)] = left - 1;
            }
        }

        if (action is not null)
        {
            await action();
        }

        if (crash)
        {
            Record(operationId, executionId, step, Crashed);
            throw new InvalidOperationException($"injected crash of step {step}");
        }

        var result = await inner.RunAsync(step, operationId, executionId, ct);
        Record(operationId, executionId, step, result.Outcome);
        return result;
    }

    private void Record(Guid operationId, string executionId, string step, string outcome)
    {
        lock (gate)
        {
            walked.Add(new WalkedStep(operationId, executionId, step, outcome));
        }
    }

    private sealed record WalkedStep(Guid OperationId, string ExecutionId, string Step, string Outcome);
}
