using System.Text.Json.Nodes;

namespace Molecule.Workspaces.Events;

/// <summary>One row of the durable audit log <c>structure_events</c>.</summary>
public sealed record StructureEvent(long Id, Guid? WorkspaceId, Guid? OperationId, string EventType, JsonObject Payload, DateTimeOffset CreatedAt);
