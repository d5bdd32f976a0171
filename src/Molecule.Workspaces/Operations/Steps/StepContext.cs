using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Npgsql;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>What every step needs, in one place so step constructors stay one line.</summary>
public sealed record StepContext(
    NpgsqlDataSource Db,
    ClaimStore Claims,
    OperationStore Operations,
    EventStore Events,
    PendingTerminationStore PendingTerminations,
    ProviderRegistry Providers,
    OperationOptions Options,
    DeploymentIdentity Deployment,
    TimeProvider Time,
    ILogger<OperationStep> Logger)
{
    /// <summary>
    /// Queues the box <paramref name="op"/> started (if any) for termination and records that it was queued, in the
    /// caller's transaction. False when there is no new box or the queue turned it away (a live row names it, it is
    /// already queued).
    /// </summary>
    public async Task<bool> QueueNewInstanceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Operation op, string reason,
        string error, CancellationToken ct)
    {
        if (op.Progress is not { NewInstanceId: { } newId, NewInstanceProvider: { } newProvider }
            || !await PendingTerminations.EnqueueAsync(conn, tx, newProvider, newId, op.WorkspaceId, reason, error, ct))
        {
            return false;
        }

        await Events.AppendAsync(conn, tx, op.WorkspaceId, op.Id, EventTypes.InstanceQueuedForTermination,
            new JsonObject { ["instance_id"] = newId, ["provider"] = newProvider, ["reason"] = reason }, ct);
        return true;
    }
}

/// <summary>The deployment's id, the value of every box's <c>molecule:deployment</c> tag.</summary>
public sealed record DeploymentIdentity(string Id);
