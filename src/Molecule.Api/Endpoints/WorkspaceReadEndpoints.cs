using System.Text;
using System.Text.Json.Nodes;
using Molecule.Api.Http;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary>The read routes of a workspace: list, get, state, events.</summary>
public static class WorkspaceReadEndpoints
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 500;

    /// <summary><c>GET /workspaces</c>: live workspaces in keyset pages, oldest first; <c>Link: rel="next"</c> while more may follow.</summary>
    public static async Task<IResult> ListAsync(HttpContext http, WorkspaceStore workspaces, OperationStore operations)
    {
        if (WorkspaceAccess.RequireAdmin(http) is { } forbidden)
        {
            return forbidden;
        }

        var query = http.Request.Query;
        var status = query["status"].ToString();
        if (status.Length > 0 && (!WorkspaceStatus.All.Contains(status) || status == WorkspaceStatus.Removed))
        {
            // removed workspaces are never listed, so asking for them is a mistake worth saying
            return Problems.Validation($"status must be one of: {string.Join(", ", WorkspaceStatus.All.Where(s => s != WorkspaceStatus.Removed))}");
        }

        Guid? parentId = null;
        if (query["parent_id"].ToString() is { Length: > 0 } rawParent)
        {
            if (!Guid.TryParseExact(rawParent, "D", out var parsed))
            {
                return Problems.Validation("parent_id must be a UUID");
            }

            parentId = parsed;
        }

        var limit = DefaultPageSize;
        if (query["limit"].ToString() is { Length: > 0 } rawLimit
            && (!int.TryParse(rawLimit, out limit) || limit < 1 || limit > MaxPageSize))
        {
            return Problems.Validation($"limit must be an integer from 1 to {MaxPageSize}");
        }

        WorkspaceCursor? cursor = null;
        if (query["cursor"].ToString() is { Length: > 0 } rawCursor && !TryDecodeCursor(rawCursor, out cursor))
        {
            return Problems.Validation("cursor is not one this API issued");
        }

        var page = await workspaces.ListAsync(new WorkspaceListFilter(status.Length > 0 ? status : null, parentId), limit, cursor, http.RequestAborted);
        var latest = await operations.GetLatestAsync(page.Select(w => w.Id).ToArray(), http.RequestAborted);
        var body = new JsonArray(page.Select(w => (JsonNode)WorkspaceBody.From(w, latest.GetValueOrDefault(w.Id))).ToArray());
        if (page.Count == limit)
        {
            var next = QueryWithCursor(http.Request, EncodeCursor(new WorkspaceCursor(page[^1].CreatedAt, page[^1].Id)));
            http.Response.Headers.Link = $"<{next}>; rel=\"next\"";
        }

        return new JsonNodeResult(body, StatusCodes.Status200OK);
    }

    /// <summary><c>GET /workspaces/{id}</c>: 410 for a removed one unless <c>include_removed=true</c>.</summary>
    public static async Task<IResult> GetAsync(HttpContext http, string id, WorkspaceStore workspaces, OperationStore operations)
    {
        var includeRemoved = http.Request.Query["include_removed"].ToString();
        if (includeRemoved.Length > 0 && includeRemoved is not ("true" or "false"))
        {
            return Problems.Validation("include_removed must be true or false");
        }

        var (workspace, problem) = await WorkspaceAccess.LoadAsync(http, id, workspaces, allowRemoved: includeRemoved == "true");
        if (problem is not null)
        {
            return problem;
        }

        var latest = await operations.GetLatestAsync([workspace!.Id], http.RequestAborted);
        http.Response.Headers.ETag = WorkspaceBody.ETag(workspace);
        return new JsonNodeResult(WorkspaceBody.From(workspace, latest.GetValueOrDefault(workspace.Id)), StatusCodes.Status200OK);
    }

    /// <summary><c>GET /workspaces/{id}/state</c>: the small status the canvas polls; a removed one answers 404 with <c>deleted: true</c>.</summary>
    public static async Task<IResult> StateAsync(HttpContext http, string id, WorkspaceStore workspaces)
    {
        var (workspace, problem) = await WorkspaceAccess.LoadAsync(http, id, workspaces, allowRemoved: true);
        if (problem is not null)
        {
            return problem;
        }

        if (workspace!.Status == WorkspaceStatus.Removed)
        {
            return Problems.Of(404, "NOT_FOUND", "The workspace was removed.", null,
                new JsonObject { ["workspace_id"] = workspace.Id, ["status"] = workspace.Status, ["deleted"] = true });
        }

        return new JsonNodeResult(new JsonObject
        {
            ["workspace_id"] = workspace.Id,
            ["status"] = workspace.Status,
            ["paused"] = workspace.Status == WorkspaceStatus.Paused,
            ["deleted"] = false,
        }, StatusCodes.Status200OK);
    }

    /// <summary><c>GET /workspaces/{id}/events?limit=</c>: the audit log, newest first (also for removed workspaces).</summary>
    public static async Task<IResult> EventsAsync(HttpContext http, string id, WorkspaceStore workspaces, EventStore events)
    {
        var limit = DefaultPageSize;
        if (http.Request.Query["limit"].ToString() is { Length: > 0 } rawLimit
            && (!int.TryParse(rawLimit, out limit) || limit < 1 || limit > MaxPageSize))
        {
            return Problems.Validation($"limit must be an integer from 1 to {MaxPageSize}");
        }

        var (workspace, problem) = await WorkspaceAccess.LoadAsync(http, id, workspaces, allowRemoved: true);
        if (problem is not null)
        {
            return problem;
        }

        var list = await events.ListForWorkspaceAsync(workspace!.Id, limit, http.RequestAborted);
        var body = new JsonArray(list.Select(e => (JsonNode)new JsonObject
        {
            ["id"] = e.Id,
            ["workspace_id"] = e.WorkspaceId,
            ["operation_id"] = e.OperationId,
            ["event_type"] = e.EventType,
            ["payload"] = e.Payload,
            ["created_at"] = e.CreatedAt,
        }).ToArray());
        return new JsonNodeResult(body, StatusCodes.Status200OK);
    }

    private static string EncodeCursor(WorkspaceCursor cursor)
    {
        var text = $"{cursor.CreatedAt.UtcTicks}:{cursor.Id:D}";
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static bool TryDecodeCursor(string raw, out WorkspaceCursor? cursor)
    {
        cursor = null;
        if (raw.Length > 128)
        {
            return false;
        }

        var base64 = raw.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var written))
        {
            return false;
        }

        var parts = Encoding.UTF8.GetString(bytes, 0, written).Split(':');
        if (parts.Length != 2 || !long.TryParse(parts[0], out var ticks) || ticks < 0 || ticks > DateTimeOffset.MaxValue.UtcTicks
            || !Guid.TryParseExact(parts[1], "D", out var id))
        {
            return false;
        }

        cursor = new WorkspaceCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id);
        return true;
    }

    private static string QueryWithCursor(HttpRequest request, string cursor)
    {
        var pairs = request.Query
            .Where(q => q.Key != "cursor")
            .Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value.ToString())}")
            .Append($"cursor={cursor}");
        return $"{request.PathBase}{request.Path}?{string.Join('&', pairs)}";
    }
}
