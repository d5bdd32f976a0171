using Molecule.Api.Hosting;
using Molecule.Api.Http;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Auth;

/// <summary>
/// Every route but <c>/healthz</c> and <c>/readyz</c> needs <c>Authorization: Bearer &lt;token&gt;</c>: an admin token, or
/// a workspace token (stored hashed; revoked when its workspace is removed). No or unknown token → 401.
/// Per-route rules (a workspace token only on its own workspace) are checked by the handlers. In worker roles
/// <c>/internal/*</c> is open too: the Lambda Web Adapter calls it from inside the function with the invoking
/// service's event (Step Functions, EventBridge), which carries no token; only the function's invokers reach it.
/// </summary>
public sealed class BearerAuthMiddleware(RequestDelegate next, AdminTokens adminTokens, TokenStore workspaceTokens, MoleculeSettings settings)
{
    private const int MaxTokenLength = 512;

    public async Task InvokeAsync(HttpContext http)
    {
        if (IsOpen(http.Request.Path) || (ServiceRoles.IsWorker(settings.Role) && http.Request.Path.StartsWithSegments("/internal")))
        {
            await next(http);
            return;
        }

        var caller = await AuthenticateAsync(http);
        if (caller is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Unauthorized().ExecuteAsync(http);
            return;
        }

        http.SetCaller(caller);
        await next(http);
    }

    // routing also matches a trailing slash, so the open set must too
    private static bool IsOpen(PathString path) =>
        path.Value?.TrimEnd('/') is "/healthz" or "/readyz";

    private async Task<Caller?> AuthenticateAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = header[scheme.Length..].Trim();
        if (token.Length is 0 or > MaxTokenLength)
        {
            return null;
        }

        if (adminTokens.Matches(token))
        {
            return Caller.Admin;
        }

        return await workspaceTokens.ResolveAsync(token, http.RequestAborted) is { } workspaceId
            ? Caller.ForWorkspace(workspaceId)
            : null;
    }
}
