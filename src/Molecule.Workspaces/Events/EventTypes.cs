namespace Molecule.Workspaces.Events;

/// <summary>The stable names of <c>structure_events.event_type</c>; operators and dashboards key on them.</summary>
public static class EventTypes
{
    public const string WorkspaceCreated = "workspace.created";
    public const string WorkspaceUpdated = "workspace.updated";
    public const string WorkspaceRemoved = "workspace.removed";
    public const string OperationClaimed = "workspace.operation.claimed";
    public const string OperationStarted = "workspace.operation.started";
    public const string OperationStep = "workspace.operation.step";
    public const string OperationSucceeded = "workspace.operation.succeeded";
    public const string OperationRolledBack = "workspace.operation.rolled_back";
    public const string OperationAborted = "workspace.operation.aborted";
    public const string OperationFailed = "workspace.operation.failed";
    public const string OperationExpired = "workspace.operation.expired";
    public const string OperationAdopted = "workspace.operation.adopted";
    public const string InstanceStopped = "workspace.instance.stopped";
    public const string InstanceProvisioned = "workspace.instance.provisioned";
    public const string InstanceRunning = "workspace.instance.running";
    public const string InstanceQueuedForTermination = "workspace.instance.queued_for_termination";
    public const string InstanceLost = "workspace.instance.lost";
    public const string LeakReaped = "workspace.instance.leak_reaped";
    public const string ProviderWritten = "workspace.provider.written";
    public const string SwitchStopExhausted = "workspace.provider.switch_stop_exhausted";
    public const string StopExhausted = "workspace.operation.stop_exhausted";
    public const string DeleteTerminateRetryExhausted = "workspace.delete.terminate_retry_exhausted";
    public const string HealBudgetExhausted = "workspace.heal.budget_exhausted";
    public const string MassFailureSuspected = "reconciler.mass_failure_suspected";
    public const string ReconcilerObserved = "reconciler.observed";
}
