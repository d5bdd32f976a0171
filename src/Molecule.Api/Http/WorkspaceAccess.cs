using Molecule.Api.Auth;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Http;

/// <summary>The checks every <c>/workspaces/{id}</c> route starts with, in this order: a UUID (400), a token that may
/// use this workspace (403, decided before any read so it reveals nothing), a row that exists (404) and is not removed (410).</summary>
public static class WorkspaceAccess
{
    public static bool TryParseId(string raw, out Guid id, out IResult? problem)
    {
        problem = null;
        if (Guid.TryParseExact(raw, "D", out id))
        {
            return true;
        }

        problem = Problems.Validation("id must be a UUID");
        return false;
    }

    public static async Task<(Workspace? Workspace, IResult? Problem)> LoadAsync(
        HttpContext http, string rawId, WorkspaceStore store, bool allowRemoved = false)
    {
        if (!TryParseId(rawId, out var id, out var problem))
        {
            return (null, problem);
        }

        if (!http.Caller().MayAccess(id))
        {
            return (null, Problems.Forbidden());
        }

        var workspace = await store.GetAsync(id, http.RequestAborted);
        if (workspace is null)
        {
            return (null, Problems.NotFound());
        }

        if (workspace.Status == WorkspaceStatus.Removed && !allowRemoved)
        {
            return (null, Problems.Removed(workspace.Id, workspace.RemovedAt));
        }

        return (workspace, null);
    }

    public static IResult? RequireAdmin(HttpContext http) => http.Caller().IsAdmin ? null : Problems.Forbidden();
}
