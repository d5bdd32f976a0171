using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>
/// Compensates the operation by its progress (see <see cref="OperationCompensation"/>). Retries any error in-step,
/// 8 attempts, 2 s ×2 ≤ 30 s: a rollback that gives up leaves the claim to expire, and the reconciler runs the same
/// compensation later.
/// </summary>
public sealed class RollbackStep(StepContext context) : OperationStep(context)
{
    public override string Name => StepNames.Rollback;

    public override async Task<StepResult> RunAsync(Operation op, CancellationToken ct)
    {
        var schedule = RetrySchedule.Rollback;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // re-read: progress may have moved since the caller loaded it
                var current = await Context.Operations.GetAsync(op.Id, ct) ?? op;
                if (!OperationState.IsActive(current.State))
                {
                    return StepResult.Ok;
                }

                var error = current.Error ?? "a step failed unexpectedly";
                await new OperationCompensation(Context).CompensateAsync(current, OperationState.RolledBack, EventTypes.OperationRolledBack, error, ct);
                return StepResult.Ok;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !schedule.IsExhausted(attempt))
            {
                await Task.Delay(schedule.DelayAfter(attempt), Context.Time, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return StepResult.Failed($"rollback gave up after {attempt} attempts: {ex.Message}");
            }
        }
    }
}
