using Molecule.Workspaces.Domain;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// The one place that says which steps run, in which order, and where each outcome leads. The local runner walks
/// it; <c>infra/statemachines/workspace-operation.asl.json</c> mirrors it state for state (Begin → StopOld →
/// Write → Provision → AwaitRunning → Commit, a Choice after each Task). Every kind walks the same sequence; a
/// step that is not part of a kind answers <c>ok</c> at once, so the state machine needs no per-kind branches.
/// </summary>
public static class OperationWalk
{
    /// <summary>The fixed sequence of the happy path.</summary>
    public static IReadOnlyList<string> Sequence { get; } =
        [StepNames.Begin, StepNames.StopOld, StepNames.Write, StepNames.Provision, StepNames.AwaitRunning, StepNames.Commit];

    /// <summary>Which steps do work for a kind (DESIGN §5.1 "Kinds").</summary>
    public static bool Applies(string kind, string step) => step switch
    {
        StepNames.Begin or StepNames.Commit or StepNames.Rollback => true,
        StepNames.StopOld or StepNames.StopExhausted =>
            kind is OperationKind.Restart or OperationKind.Heal or OperationKind.SwitchProvider or OperationKind.Pause,
        StepNames.Write => kind is OperationKind.SwitchProvider,
        StepNames.Provision or StepNames.AwaitRunning => kind is not OperationKind.Pause,
        _ => false,
    };

    /// <summary>Where the walk goes after <paramref name="step"/> answered <paramref name="outcome"/>; null ends the walk.</summary>
    public static string? Next(string step, string outcome) => (step, outcome) switch
    {
        (StepNames.Rollback, StepOutcome.Retry) => StepNames.Rollback,
        (StepNames.Rollback, _) => null,
        (_, StepOutcome.Retry or StepOutcome.Pending) => step,
        (StepNames.StopOld, StepOutcome.Exhausted) => StepNames.StopExhausted,
        (_, StepOutcome.Failed) => StepNames.Rollback,
        (_, StepOutcome.Abort) => null,
        (StepNames.Commit, StepOutcome.Ok) => null,
        (StepNames.StopExhausted, StepOutcome.Ok) => StepNames.Write,
        (_, StepOutcome.Ok) => Sequence[IndexOf(step) + 1],
        _ => throw new InvalidOperationException($"step {step} cannot answer {outcome}"),
    };

    private static int IndexOf(string step)
    {
        for (var i = 0; i < Sequence.Count; i++)
        {
            if (Sequence[i] == step)
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(step), step, "not a step of the sequence");
    }
}
