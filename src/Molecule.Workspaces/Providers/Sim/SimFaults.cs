namespace Molecule.Workspaces.Providers.Sim;

/// <summary>The calls of a provider that faults can be injected into.</summary>
public enum SimCall
{
    Provision,
    Describe,
    Terminate,
    List,
}

/// <summary>A fault setting for one call kind: a failure rate, extra latency, and failures that fire a fixed number of times.</summary>
public sealed record SimFault(double FailureRate, int LatencyMs, int FailNext);

/// <summary>
/// The faults injected into one simulated provider at run time (<c>PUT /sim/faults</c>, the chaos harness, tests).
/// Thread-safe; <see cref="SimFault.FailNext"/> counts down once per failed call, like Karpenter's one-shot fake errors.
/// </summary>
public sealed class SimFaults
{
    private readonly Lock gate = new();
    private readonly Dictionary<SimCall, SimFault> faults = [];

    public void Set(SimCall call, SimFault fault)
    {
        lock (gate)
        {
            faults[call] = fault;
        }
    }

    public void SetAll(SimFault fault)
    {
        lock (gate)
        {
            foreach (var call in Enum.GetValues<SimCall>())
            {
                faults[call] = fault;
            }
        }
    }

    public void Clear()
    {
        lock (gate)
        {
            faults.Clear();
        }
    }

    public IReadOnlyDictionary<SimCall, SimFault> Snapshot()
    {
        lock (gate)
        {
            return new Dictionary<SimCall, SimFault>(faults);
        }
    }

    /// <summary>Decides, for one call, the extra latency and whether it fails.</summary>
    internal (int LatencyMs, bool Fail) Draw(SimCall call, Func<double> random)
    {
        lock (gate)
        {
            if (!faults.TryGetValue(call, out var fault))
            {
                return (0, false);
            }

            if (fault.FailNext > 0)
            {
                faults[call] = fault with { FailNext = fault.FailNext - 1 };
                return (fault.LatencyMs, true);
            }

            return (fault.LatencyMs, fault.FailureRate > 0 && random() < fault.FailureRate);
        }
    }
}
