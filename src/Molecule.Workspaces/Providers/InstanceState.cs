namespace Molecule.Workspaces.Providers;

/// <summary>The lifecycle states every provider reports, named as EC2 names them.</summary>
public enum InstanceState
{
    Pending,
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
    NotFound,
}

public static class InstanceStateNames
{
    public static string ToWire(this InstanceState state) => state switch
    {
        InstanceState.Pending => "pending",
        InstanceState.Running => "running",
        InstanceState.Stopping => "stopping",
        InstanceState.Stopped => "stopped",
        InstanceState.ShuttingDown => "shutting-down",
        InstanceState.Terminated => "terminated",
        InstanceState.NotFound => "not-found",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>True for the answers that mean the box is gone or going: the reconciler's "dead" signal.</summary>
    public static bool IsNotRunning(this InstanceState state) =>
        state is InstanceState.Stopping or InstanceState.Stopped or InstanceState.ShuttingDown
            or InstanceState.Terminated or InstanceState.NotFound;
}
