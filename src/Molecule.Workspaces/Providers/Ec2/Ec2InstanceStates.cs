using Amazon.EC2.Model;

namespace Molecule.Workspaces.Providers.Ec2;

/// <summary>EC2's numeric instance states, read the one documented way: the low byte of <c>State.Code</c>.</summary>
internal static class Ec2InstanceStates
{
    /// <summary>The state names <see cref="IComputeProvider.ListManagedAsync"/> asks for: every state but terminated.</summary>
    public static readonly IReadOnlyList<string> NotTerminatedNames = ["pending", "running", "stopping", "stopped", "shutting-down"];

    /// <summary>The state for a low-byte code, or null for a code EC2 does not document.</summary>
    /// <remarks>The high byte carries internal values that must be ignored (272 = 256 | 16 is running).</remarks>
    public static InstanceState? FromCode(int code) => (code & 0xFF) switch
    {
        0 => InstanceState.Pending,
        16 => InstanceState.Running,
        32 => InstanceState.ShuttingDown,
        48 => InstanceState.Terminated,
        64 => InstanceState.Stopping,
        80 => InstanceState.Stopped,
        _ => null,
    };

    /// <summary>The state of <paramref name="instance"/>; a missing or unknown code is a transient error, never a guess.</summary>
    public static InstanceState Of(Instance instance, string providerName) =>
        instance.State?.Code is { } code && FromCode(code) is { } state
            ? state
            : throw new ProviderException(
                providerName,
                ProviderErrorKind.Transient,
                $"instance {instance.InstanceId} reported an unknown state (code {instance.State?.Code?.ToString() ?? "none"}, name {instance.State?.Name?.Value ?? "none"})");
}
