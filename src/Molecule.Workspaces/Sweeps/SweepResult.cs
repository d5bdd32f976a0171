namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// What one tick of a sweep did: its counts in a fixed order (each one a metric of the tick's metrics line), the
/// errors of the items that failed, combined (the first few; the counts stay exact), and whether the tick's budget ran
/// out before its work did.
/// </summary>
public sealed record SweepResult(IReadOnlyList<SweepCount> Counts, IReadOnlyList<string> Errors, bool BudgetExhausted)
{
    /// <summary>The count named <paramref name="name"/>, or 0 when the sweep did not report it.</summary>
    public long this[string name] => Counts.FirstOrDefault(c => c.Name == name)?.Value ?? 0;
}

/// <summary>One named count of a tick (<c>terminated</c>, <c>leaked</c>); the name is the CloudWatch metric name.</summary>
public sealed record SweepCount(string Name, long Value);
