using System.Collections.Concurrent;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// When each (workspace, box) was first answered "not running". In memory, per reconciler: losing it (a cold start)
/// only delays a confirmation to the row's next visit; it never confirms anything by itself. Entries leave when the
/// box answers running, when the row is marked, or when they are older than <see cref="ForgetAfter"/> (the row left
/// the online set, or its box changed).
/// </summary>
internal sealed class SuspectMemory
{
    /// <summary>A suspicion not confirmed or cleared within this long is dropped. <value>1 h.</value></summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<(Guid, string), DateTimeOffset> firstSeen = new();

    /// <summary>When the box was first seen not running; <paramref name="now"/> if this is the first time.</summary>
    public DateTimeOffset FirstSeen((Guid, string) key, DateTimeOffset now) => firstSeen.GetOrAdd(key, now);

    public void Forget((Guid, string) key) => firstSeen.TryRemove(key, out _);

    public void ForgetOlderThan(DateTimeOffset cutoff)
    {
        foreach (var (key, seen) in firstSeen)
        {
            if (seen < cutoff)
            {
                firstSeen.TryRemove(key, out _);
            }
        }
    }
}
