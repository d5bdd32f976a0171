using System.Text.Json.Nodes;
using Molecule.Api.Http;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary><c>PATCH /workspaces/{id}</c>: name and canvas fields, optionally a compare-and-set on <c>If-Match</c>.</summary>
public static class PatchWorkspaceEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext http, string id, WorkspaceStore workspaces)
    {
        if (!WorkspaceAccess.TryParseId(id, out var workspaceId, out var idProblem))
        {
            return idProblem!;
        }

        int? expectedVersion = null;
        if (http.Request.Headers.IfMatch.ToString() is { Length: > 0 } ifMatch)
        {
            if (!TryParseVersion(ifMatch, out var version))
            {
                return Problems.Validation("If-Match must be a version ETag such as \"3\"");
            }

            expectedVersion = version;
        }

        var (body, _, problem) = await JsonBody.ReadObjectAsync(http.Request, required: true, http.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.ContainsKey("compute"))
        {
            return Problems.Validation("compute cannot be changed by PATCH yet; use POST /workspaces/{id}/switch-provider");
        }

        if (!Fields.TryString(body, "name", 1, 200, out var name, out var error)
            || !Fields.TryDouble(body, "x", out var x, out error)
            || !Fields.TryDouble(body, "y", out var y, out error)
            || !Fields.TryBool(body, "collapsed", out var collapsed, out error))
        {
            return Problems.Validation(error!);
        }

        var (_, accessProblem) = await WorkspaceAccess.LoadAsync(http, id, workspaces);
        if (accessProblem is not null)
        {
            return accessProblem;
        }

        var result = await workspaces.PatchAsync(workspaceId, new WorkspacePatch(name, x, y, collapsed), expectedVersion, http.RequestAborted);
        switch (result.Outcome)
        {
            case PatchOutcome.Updated:
                http.Response.Headers.ETag = WorkspaceBody.ETag(result.Workspace!);
                return new JsonNodeResult(new JsonObject { ["status"] = "updated", ["version"] = result.Workspace!.Version }, StatusCodes.Status200OK);
            case PatchOutcome.NotFound:
                return Problems.NotFound();
            case PatchOutcome.Removed:
                return Problems.Removed(workspaceId, result.Workspace?.RemovedAt);
            case PatchOutcome.NameTaken:
                return Problems.Of(409, "NAME_TAKEN", "A live sibling already has this name.");
            default:
                return Problems.Of(412, "VERSION_MISMATCH", "The workspace changed since that version was read.", null,
                    new JsonObject { ["current_version"] = result.Workspace?.Version });
        }
    }

    private static bool TryParseVersion(string raw, out int version)
    {
        var text = raw.Trim();
        if (text.StartsWith("W/", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        text = text.Trim('"');
        return int.TryParse(text, out version) && version > 0;
    }
}
