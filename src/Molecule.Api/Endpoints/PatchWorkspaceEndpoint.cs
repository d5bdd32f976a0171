using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Auth;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Endpoints;

/// <summary>
/// <c>PATCH /workspaces/{id}</c>: name and canvas fields, optionally a compare-and-set on <c>If-Match</c>; a new
/// <c>compute.provider</c> starts a switch-provider operation with the switch's guards and answers.
/// </summary>
public static class PatchWorkspaceEndpoint
{
    private static readonly string[] PatchableFields = ["name", "x", "y", "collapsed", "compute", "confirm_data_loss"];

    public static readonly ProblemCode[] Codes =
    [
        .. ProblemCodes.Body, .. ProblemCodes.WorkspaceAccess, ProblemCodes.BadProvider, ProblemCodes.NameTaken, .. SwitchProviderEndpoint.StartCodes,
    ];

    public static async Task<Results<Ok<UpdatedAnswer>, Accepted<SwitchingAnswer>, ProblemResult>> HandleAsync(HttpContext http, string id, WorkspaceStore workspaces, ProviderRegistry providers, OperationStarter starter)
    {
        if (!WorkspaceAccess.TryParseId(id, out var workspaceId, out var idProblem))
        {
            return idProblem;
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

        // a null would mean "clear", which none of these fields can be; answering 200 for it would bump the version for nothing
        if (PatchableFields.FirstOrDefault(f => body!.TryGetPropertyValue(f, out var value) && value is null) is { } nulled)
        {
            return Problems.Validation($"{nulled} cannot be null");
        }

        if (!Fields.TryString(body!, "name", 1, 200, out var name, out var error)
            || !Fields.TryDouble(body!, "x", out var x, out error)
            || !Fields.TryDouble(body!, "y", out var y, out error)
            || !Fields.TryBool(body!, "collapsed", out var collapsed, out error)
            || !Fields.TryBool(body!, "confirm_data_loss", out var confirmDataLoss, out error)
            || !Fields.TryObject(body!, "compute", out var compute, out error))
        {
            return Problems.Validation(error!);
        }

        if (name is not null && Names.Invalid(name) is { } nameProblem)
        {
            return Problems.Validation(nameProblem);
        }

        string? targetProvider = null;
        if (compute is not null)
        {
            // only the provider is editable, and only by a switch: instance type and persistence belong to the box
            if (compute.Select(p => p.Key).FirstOrDefault(k => k != "provider") is { } other)
            {
                return Problems.Validation($"compute.{other} cannot be changed; only compute.provider can (by a switch)");
            }

            if (!Fields.TryString(compute, "provider", 1, 64, out targetProvider, out _) || targetProvider is null
                || !providers.TryGet(targetProvider, out _))
            {
                return Problems.BadProvider($"compute.provider must name a configured provider");
            }
        }

        if (!http.Caller().MayAccess(workspaceId))
        {
            return Problems.Forbidden();
        }

        var patch = new WorkspacePatch(name, x, y, collapsed);
        if (targetProvider is not null)
        {
            // only a switch needs the row first (its guards read it); the plain write answers 404 / 410 itself
            var (workspace, accessProblem) = await WorkspaceAccess.LoadAsync(http, workspaceId, workspaces);
            if (accessProblem is not null)
            {
                return accessProblem;
            }

            if (targetProvider != workspace!.Compute.Provider || workspace.ClaimId is not null)
            {
                // one statement claims, checks If-Match and writes the other fields: the PATCH applies whole or not at all
                var switched = await SwitchProviderEndpoint.StartAsync(workspace, targetProvider, confirmDataLoss ?? false, expectedVersion, patch,
                    starter, http.RequestAborted);
                return switched.Result switch
                {
                    Accepted<SwitchingAnswer> accepted => accepted,
                    ProblemResult refused => refused,
                    // "already there" is answered only for an unclaimed row on the target provider, which the condition above excludes
                    _ => throw new System.Diagnostics.UnreachableException("a PATCH switch answered noop"),
                };
            }
        }

        var result = await workspaces.PatchAsync(workspaceId, patch, expectedVersion, http.RequestAborted);
        switch (result.Outcome)
        {
            case PatchOutcome.Updated:
                http.Response.Headers.ETag = WorkspaceAnswer.ETag(result.Workspace!);
                return TypedResults.Ok(UpdatedAnswer.Of(result.Workspace!.Version));
            case PatchOutcome.NotFound:
                return Problems.NotFound();
            case PatchOutcome.Removed:
                return Problems.Removed(workspaceId, result.Workspace?.RemovedAt);
            case PatchOutcome.NameTaken:
                return Problems.NameTaken();
            default:
                return Problems.VersionMismatch(result.Workspace?.Version);
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
