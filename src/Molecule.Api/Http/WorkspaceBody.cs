using System.Text.Json;
using System.Text.Json.Nodes;
using Molecule.Workspaces.Domain;

namespace Molecule.Api.Http;

/// <summary>The workspace as the API shows it (DESIGN §10), separate from the row type.</summary>
public static class WorkspaceBody
{
    public static JsonObject From(Workspace w, Operation? operation) => new()
    {
        ["id"] = w.Id,
        ["name"] = w.Name,
        ["parent_id"] = w.ParentId,
        ["status"] = w.Status,
        ["runtime"] = w.Runtime,
        ["tier"] = w.Tier,
        ["compute"] = JsonSerializer.SerializeToNode(w.Compute, DomainJson.Default.Compute),
        ["instance_id"] = w.InstanceId,
        ["instance_provider"] = w.InstanceProvider,
        ["url"] = w.Url,
        ["x"] = w.X,
        ["y"] = w.Y,
        ["collapsed"] = w.Collapsed,
        ["version"] = w.Version,
        ["operation"] = operation is null ? null : new JsonObject
        {
            ["id"] = operation.Id,
            ["kind"] = operation.Kind,
            ["state"] = operation.State,
        },
        ["created_at"] = w.CreatedAt,
        ["updated_at"] = w.UpdatedAt,
    };

    /// <summary>The weak ETag of a row: its version, for <c>If-Match</c>.</summary>
    public static string ETag(Workspace w) => $"\"{w.Version}\"";
}
