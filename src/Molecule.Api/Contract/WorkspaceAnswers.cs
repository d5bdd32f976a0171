using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Contract;

/// <summary>A workspace as the API shows it (DESIGN §10): <c>GET /workspaces/{id}</c> and each item of <c>GET /workspaces</c>.</summary>
public sealed record WorkspaceAnswer(
    Guid Id,
    string Name,
    Guid? ParentId,
    string Status,
    string Runtime,
    int Tier,
    ComputeAnswer Compute,
    string? InstanceId,
    string? InstanceProvider,
    string? Url,
    double X,
    double Y,
    bool Collapsed,
    int Version,
    OperationStateAnswer? Operation,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static WorkspaceAnswer From(Workspace w, OperationSummary? operation) => new(
        w.Id, w.Name, w.ParentId, w.Status, w.Runtime, w.Tier, ComputeAnswer.From(w.Compute), w.InstanceId, w.InstanceProvider, w.Url,
        w.X, w.Y, w.Collapsed, w.Version,
        operation is null ? null : new OperationStateAnswer(operation.Id, operation.Kind, operation.State),
        w.CreatedAt, w.UpdatedAt);

    /// <summary>The ETag of a row: its version, for <c>If-Match</c>.</summary>
    public static string ETag(Workspace w) => $"\"{w.Version}\"";
}

/// <summary>Where and how the box runs. <c>instance_type</c> and <c>volume</c> are left out when not set, as the row stores them.</summary>
public sealed record ComputeAnswer(
    string Provider,
    string DataPersistence,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? InstanceType = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] VolumeAnswer? Volume = null)
{
    public static ComputeAnswer From(Compute compute) => new(
        compute.Provider, compute.DataPersistence, compute.InstanceType,
        compute.Volume is null ? null : new VolumeAnswer(compute.Volume.RootGb));
}

public sealed record VolumeAnswer([property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RootGb = null);

/// <summary>A workspace's latest operation: enough for the canvas to show a spinner and follow it.</summary>
public sealed record OperationStateAnswer(Guid Id, string Kind, string State);

/// <summary>An operation started (or found running) by a request: its id and kind.</summary>
public sealed record OperationRef(Guid Id, string? Kind);

/// <summary><c>POST /workspaces</c> → 201: the workspace token is shown here once and never again.</summary>
public sealed record CreatedWorkspaceAnswer(Guid Id, string Status, string AuthToken, OperationRef? Operation);

/// <summary><c>GET /workspaces/{id}/state</c>: the small status the canvas polls.</summary>
public sealed record WorkspaceStateAnswer(Guid WorkspaceId, string Status, bool Paused, bool Deleted);

/// <summary>One entry of the audit log (<c>GET /workspaces/{id}/events</c>).</summary>
public sealed record EventAnswer(long Id, Guid? WorkspaceId, Guid? OperationId, string EventType, JsonObject Payload, DateTimeOffset CreatedAt)
{
    public static EventAnswer From(StructureEvent e) => new(e.Id, e.WorkspaceId, e.OperationId, e.EventType, e.Payload, e.CreatedAt);
}
