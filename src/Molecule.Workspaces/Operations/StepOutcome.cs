namespace Molecule.Workspaces.Operations;

/// <summary>The outcomes a step answers (DESIGN §5.1); the walk (<see cref="OperationWalk"/>) routes on them.</summary>
public static class StepOutcome
{
    public const string Ok = "ok";
    public const string Retry = "retry";
    public const string Pending = "pending";
    public const string Exhausted = "exhausted";
    public const string Failed = "failed";
    public const string Abort = "abort";
}

/// <summary>One step's answer. <paramref name="Wait"/> is set for <c>retry</c> and <c>pending</c>.</summary>
public sealed record StepResult(string Outcome, TimeSpan? Wait = null, string? Error = null)
{
    public static StepResult Ok { get; } = new(StepOutcome.Ok);

    public static StepResult RetryAfter(TimeSpan wait, string? error) => new(StepOutcome.Retry, wait, error);

    public static StepResult PendingFor(TimeSpan wait) => new(StepOutcome.Pending, wait);

    public static StepResult Exhausted(string? error) => new(StepOutcome.Exhausted, null, error);

    public static StepResult Failed(string error) => new(StepOutcome.Failed, null, error);

    public static StepResult Abort(string reason) => new(StepOutcome.Abort, null, reason);

    /// <summary>Whole seconds for the state machine's <c>Wait.SecondsPath</c> (never 0 for a real wait).</summary>
    public int? WaitSeconds => Wait is { } wait ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : null;
}
