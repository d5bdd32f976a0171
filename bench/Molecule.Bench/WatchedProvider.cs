using System.Collections.Concurrent;
using Molecule.Workspaces.Providers;

namespace Molecule.Bench;

/// <summary>
/// Wraps a provider and remembers which boxes a sweep has seen in the current tick: every id it described and every
/// box a finished list call returned. The benchmarks read it between ticks; the sweep under test does not know.
/// </summary>
internal sealed class WatchedProvider(IComputeProvider inner) : IComputeProvider
{
    private ConcurrentDictionary<string, byte> described = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, byte> listed = new(StringComparer.Ordinal);

    public string Name => inner.Name;

    public string Type => inner.Type;

    /// <summary>Returns what was seen since the last call and starts a new tick's sets.</summary>
    public (IReadOnlyCollection<string> Described, IReadOnlyCollection<string> Listed) NextTick()
    {
        var seen = (described.Keys.ToList(), listed.Keys.ToList());
        described = new(StringComparer.Ordinal);
        listed = new(StringComparer.Ordinal);
        return seen;
    }

    public Task<string> ProvisionAsync(InstanceSpec spec, string idempotencyToken, IReadOnlyDictionary<string, string> tags, CancellationToken ct) =>
        inner.ProvisionAsync(spec, idempotencyToken, tags, ct);

    public async Task<IReadOnlyDictionary<string, InstanceState>> DescribeAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct)
    {
        var states = await inner.DescribeAsync(instanceIds, ct);
        foreach (var id in instanceIds)
        {
            described.TryAdd(id, 0);
        }

        return states;
    }

    public Task<IReadOnlyDictionary<string, TerminateResult>> TerminateAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct) =>
        inner.TerminateAsync(instanceIds, ct);

    public async Task<ManagedInstancePage> ListManagedAsync(string? pageToken, CancellationToken ct)
    {
        var page = await inner.ListManagedAsync(pageToken, ct);
        foreach (var instance in page.Instances)
        {
            listed.TryAdd(instance.InstanceId, 0);
        }

        return page;
    }
}
