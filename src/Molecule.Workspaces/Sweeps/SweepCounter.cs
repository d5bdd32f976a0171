using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// A tick's counts, one per value of <typeparamref name="TCount"/> (an <c>int</c> enum numbered 0, 1, 2…, the
/// default), safe to add to from parallel pages and providers. A count's metric name is its name in snake_case.
/// </summary>
public abstract class SweepCounter<TCount>
    where TCount : struct, Enum
{
    private static readonly string[] MetricNames = [.. Enum.GetNames<TCount>().Select(JsonNamingPolicy.SnakeCaseLower.ConvertName)];

    private readonly int[] values = new int[MetricNames.Length];

    public int this[TCount count] => Volatile.Read(ref values[Index(count)]);

    public void Add(TCount count, int n = 1) => Interlocked.Add(ref values[Index(count)], n);

    /// <summary>Every count as a metric, in the enum's order.</summary>
    protected IEnumerable<SweepCount> AllCounts() => MetricNames.Select((name, i) => new SweepCount(name, Volatile.Read(ref values[i])));

    private static int Index(TCount count) => Unsafe.As<TCount, int>(ref count);
}
