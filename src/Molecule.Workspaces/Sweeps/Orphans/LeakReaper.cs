using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;

namespace Molecule.Workspaces.Sweeps.Orphans;

/// <summary>Terminates the leaks one list page turned up, with one <c>workspace.instance.leak_reaped</c> per box the cloud confirmed.</summary>
internal sealed class LeakReaper(BatchTerminator terminator, EventStore events, ILogger logger)
{
    public async Task ReapAsync(IComputeProvider provider, IReadOnlyList<ManagedInstance> leaks, OrphanSweepTally tally, CancellationToken ct)
    {
        tally.Add(OrphanCount.LeaksFound, leaks.Count);
        var boxes = leaks.ToDictionary(b => new BoxRef(TagGuid(b, ProviderTags.WorkspaceId), provider.Name, b.InstanceId));
        var results = await terminator.TerminateAsync(boxes.Keys, ct);
        var reaped = new List<(Guid?, Guid?, string, JsonObject?)>();
        foreach (var (box, instance) in results.Where(r => r.Terminated).Select(r => (r.Box, boxes[r.Box])))
        {
            tally.Add(OrphanCount.Leaked);
            reaped.Add((box.WorkspaceId, TagGuid(instance, ProviderTags.OperationId), EventTypes.LeakReaped, new JsonObject
            {
                ["instance_id"] = box.InstanceId,
                ["provider"] = box.Provider,
                ["launched_at"] = instance.LaunchedAt,
                ["workspace_id"] = instance.Tags.GetValueOrDefault(ProviderTags.WorkspaceId),
                ["operation_id"] = instance.Tags.GetValueOrDefault(ProviderTags.OperationId),
                ["state"] = instance.State.ToWire(),
            }));
            logger.LogWarning("reaped leaked instance {instance_id} on {provider}, launched {launched_at}, tagged for workspace {workspace_id}",
                box.InstanceId, box.Provider, instance.LaunchedAt, box.WorkspaceId);
        }

        // the cloud confirmed them: the events are written whatever the budget says now
        await events.AppendAllAsync(reaped, CancellationToken.None);

        tally.RecordFailures(results, OrphanCount.LeakFailed);
    }

    public static Guid? TagGuid(ManagedInstance box, string tag) =>
        box.Tags.TryGetValue(tag, out var value) && Guid.TryParse(value, out var id) ? id : null;
}
