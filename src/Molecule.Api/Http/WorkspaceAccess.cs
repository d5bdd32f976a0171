using System.Diagnostics.CodeAnalysis;
using Molecule.Api.Auth;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Http;

/// <summary>The checks every <c>/workspaces/{id}</c> route starts with, in this order: a UUID (400), a token that may
/// use this workspace (403, decided before any read so it reveals nothing), a row that exists (404) and is not removed (410).</summary>
public static class WorkspaceAccess
{
    public static bool TryParseId(string raw, out Guid id, [NotNullWhen(false)] out ProblemResult? problem)
    {
        problem = null;
        if (Guid.TryParseExact(raw, "D", out id))
        {
            return true;
        }

        problem = Problems.Validation("id must be a UUID");
        return false;
    }

    /// <summary>The id as a UUID that this caller may use (400, 403), before anything is read.</summary>
    public static bool TryAuthorize(HttpContext http, string rawId, out Guid id, [NotNullWhen(false)] out ProblemResult? problem)
    {
        if (!TryParseId(rawId, out id, out problem))
        {
            return false;
        }

        if (!http.Caller().MayAccess(id))
        {
            problem = Problems.Forbidden();
            return false;
        }

        return true;
    }

    /// <summary>404 for no row, 410 for a removed one (unless <paramref name="allowRemoved"/>); null when it may be used.</summary>
    public static ProblemResult? Missing(Workspace? workspace, bool allowRemoved = false) => workspace switch
    {
        null => Problems.NotFound(),
        { Status: WorkspaceStatus.Removed } when !allowRemoved => Problems.Removed(workspace.Id, workspace.RemovedAt),
        _ => null,
    };

    public static async Task<(Workspace? Workspace, ProblemResult? Problem)> LoadAsync(
        HttpContext http, string rawId, WorkspaceStore store, bool allowRemoved = false) =>
        TryParseId(rawId, out var id, out var problem) ? await LoadAsync(http, id, store, allowRemoved) : (null, problem);

    /// <summary>The row of an already parsed id that this caller may use (403), then 404 / 410 as <see cref="Missing"/> says.</summary>
    public static async Task<(Workspace? Workspace, ProblemResult? Problem)> LoadAsync(
        HttpContext http, Guid id, WorkspaceStore store, bool allowRemoved = false)
    {
        if (!http.Caller().MayAccess(id))
        {
            return (null, Problems.Forbidden());
        }

        var workspace = await store.GetAsync(id, http.RequestAborted);
        return Missing(workspace, allowRemoved) is { } missing ? (null, missing) : (workspace, null);
    }
}
