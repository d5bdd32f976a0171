using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary>The read routes of a workspace: list, get, state, events.</summary>
public static class WorkspaceReadEndpoints
{
    /// <summary><c>GET /workspaces</c> (admin): live workspaces in keyset pages, oldest first; <c>Link: rel="next"</c> while more may follow.</summary>
    public static async Task<Results<Ok<IReadOnlyList<WorkspaceAnswer>>, ProblemResult>> ListAsync(HttpContext http, string? status,
        [FromQuery(Name = "parent_id")] string? parentId, string? limit, string? cursor, WorkspaceStore workspaces)
    {
        if (!string.IsNullOrEmpty(status) && (!WorkspaceStatus.All.Contains(status) || status == WorkspaceStatus.Removed))
        {
            // removed workspaces are never listed, so asking for them is a mistake worth saying
            return Problems.Validation($"status must be one of: {string.Join(", ", WorkspaceStatus.All.Where(s => s != WorkspaceStatus.Removed))}");
        }

        if (!QueryValues.TryUuid("parent_id", parentId, out var parent, out var problem)
            || !QueryValues.TryLimit(limit, out var pageSize, out problem)
            || !WorkspaceCursorCodec.TryDecode(cursor, out var after, out problem))
        {
            return problem;
        }

        var filter = new WorkspaceListFilter(string.IsNullOrEmpty(status) ? null : status, parent);
        var page = await workspaces.ListAsync(filter, pageSize, after, http.RequestAborted);
        if (page.Count == pageSize)
        {
            var last = page[^1].Workspace;
            var next = QueryWithCursor(http.Request, WorkspaceCursorCodec.Encode(new WorkspaceCursor(last.CreatedAt, last.Id)));
            http.Response.Headers.Link = $"<{next}>; rel=\"next\"";
        }

        return TypedResults.Ok<IReadOnlyList<WorkspaceAnswer>>(page.Select(r => WorkspaceAnswer.From(r.Workspace, r.Operation)).ToArray());
    }

    /// <summary><c>GET /workspaces/{id}</c>: the workspace and its latest operation in one read; 410 for a removed one unless <c>include_removed=true</c>.</summary>
    public static async Task<Results<Ok<WorkspaceAnswer>, ProblemResult>> GetAsync(HttpContext http, string id,
        [FromQuery(Name = "include_removed")] string? includeRemoved, WorkspaceStore workspaces)
    {
        if (!QueryValues.TryFlag("include_removed", includeRemoved, out var withRemoved, out var problem)
            || !WorkspaceAccess.TryAuthorize(http, id, out var workspaceId, out problem))
        {
            return problem;
        }

        var found = await workspaces.GetWithLatestOperationAsync(workspaceId, http.RequestAborted);
        if (WorkspaceAccess.Missing(found?.Workspace, withRemoved) is { } missing)
        {
            return missing;
        }

        http.Response.Headers.ETag = WorkspaceAnswer.ETag(found!.Workspace);
        return TypedResults.Ok(WorkspaceAnswer.From(found.Workspace, found.Operation));
    }

    /// <summary><c>GET /workspaces/{id}/state</c>: the small status the canvas polls; a removed one answers 404 with <c>deleted: true</c>.</summary>
    public static async Task<Results<Ok<WorkspaceStateAnswer>, ProblemResult>> StateAsync(HttpContext http, string id, WorkspaceStore workspaces)
    {
        var (workspace, problem) = await WorkspaceAccess.LoadAsync(http, id, workspaces, allowRemoved: true);
        if (problem is not null)
        {
            return problem;
        }

        if (workspace!.Status == WorkspaceStatus.Removed)
        {
            return new ProblemResult(ProblemCodes.RemovedState.Status, new RemovedStateProblem
            {
                Error = ProblemCodes.RemovedState.Error,
                Title = "The workspace was removed.",
                Status = workspace.Status,
                WorkspaceId = workspace.Id,
                Deleted = true,
            });
        }

        return TypedResults.Ok(new WorkspaceStateAnswer(workspace.Id, workspace.Status, workspace.Status == WorkspaceStatus.Paused, Deleted: false));
    }

    /// <summary><c>GET /workspaces/{id}/events?limit=</c>: the audit log, newest first (also for removed workspaces).</summary>
    public static async Task<Results<Ok<IReadOnlyList<EventAnswer>>, ProblemResult>> EventsAsync(HttpContext http, string id, string? limit,
        WorkspaceStore workspaces, EventStore events)
    {
        if (!QueryValues.TryLimit(limit, out var count, out var problem))
        {
            return problem;
        }

        var (workspace, accessProblem) = await WorkspaceAccess.LoadAsync(http, id, workspaces, allowRemoved: true);
        if (accessProblem is not null)
        {
            return accessProblem;
        }

        var list = await events.ListForWorkspaceAsync(workspace!.Id, count, http.RequestAborted);
        return TypedResults.Ok<IReadOnlyList<EventAnswer>>(list.Select(EventAnswer.From).ToArray());
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
