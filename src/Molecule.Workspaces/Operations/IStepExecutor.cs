namespace Molecule.Workspaces.Operations;

/// <summary>
/// Runs one step of one operation by name and answers its outcome (DESIGN §5.1). The one seam both walkers go
/// through — the local runner and the state machine's Tasks (<c>POST /internal/steps</c>) — so a test can stand
/// between either walker and the steps and see, or script, exactly the same thing.
/// </summary>
public interface IStepExecutor
{
    /// <summary>
    /// Runs <paramref name="step"/> of <paramref name="operationId"/> for <paramref name="executionId"/>. Domain
    /// outcomes are answers, never exceptions; a throw is an unexpected fault that the walker retries.
    /// </summary>
    Task<StepResult> RunAsync(string step, Guid operationId, string executionId, CancellationToken ct);
}
