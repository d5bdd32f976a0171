using System.Collections.Concurrent;

namespace Molecule.Workspaces.Providers.Sim;

/// <summary>Counts of the calls a simulated provider received (failed ones included), thread-safe.</summary>
public sealed class SimCallLog
{
    private readonly ConcurrentDictionary<SimCall, int> calls = new();
    private readonly ConcurrentDictionary<string, int> terminateRequests = new(StringComparer.Ordinal);

    public int Count(SimCall call) => calls.GetValueOrDefault(call);

    /// <summary>How many terminate calls named <paramref name="instanceId"/>.</summary>
    public int TerminateRequestsFor(string instanceId) => terminateRequests.GetValueOrDefault(instanceId);

    internal void Record(SimCall call) => calls.AddOrUpdate(call, 1, (_, n) => n + 1);

    internal void RecordTerminate(IEnumerable<string> instanceIds)
    {
        foreach (var id in instanceIds.Distinct())
        {
            terminateRequests.AddOrUpdate(id, 1, (_, n) => n + 1);
        }
    }
}
