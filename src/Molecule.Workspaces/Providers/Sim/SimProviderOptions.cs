namespace Molecule.Workspaces.Providers.Sim;

/// <summary>How one simulated cloud behaves (<c>Molecule:Providers:&lt;name&gt;:*</c> with <c>Type = sim</c>).</summary>
public sealed class SimProviderOptions
{
    /// <summary>Latency added to every call, in milliseconds. <value>The default is 20 ms.</value></summary>
    public int LatencyMs { get; set; } = 20;

    /// <summary>Seconds from provision until the box reports <c>running</c>. <value>The default is 3 s.</value></summary>
    public double BootSeconds { get; set; } = 3;

    /// <summary>
    /// Seconds after provision during which describe does not know the new id yet (EC2's eventual
    /// consistency). <value>The default is 1 s.</value>
    /// </summary>
    public double DescribeLagSeconds { get; set; } = 1;

    /// <summary>Chance in [0, 1] that a call fails with a transient error, for every call kind. <value>The default is 0.</value></summary>
    public double FailureRate { get; set; }

    /// <summary>Instance type used when a workspace names none. <value>The default is <c>sim.medium</c>.</value></summary>
    public string InstanceType { get; set; } = "sim.medium";
}
