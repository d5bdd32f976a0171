using System.Text.Json.Nodes;
using Molecule.Workspaces.Events;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>Observe mode's record of a liveness decision it did not take (<c>reconciler.observed</c>, with the action).</summary>
internal static class ObservedDecisions
{
    public static Task AppendObservedAsync(this EventStore events, Guid? workspaceId, string action, JsonObject detail, CancellationToken ct)
    {
        detail["action"] = action;
        return events.AppendAsync(workspaceId, null, EventTypes.ReconcilerObserved, detail, ct);
    }
}
