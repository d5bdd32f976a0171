using Molecule.Api.Http;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Auth;

/// <summary>
/// Every route but <c>/healthz</c> and <c>/readyz</c> needs <c>Authorization: Bearer &lt;token&gt;</c>: an admin token, or
/// a workspace token (stored hashed; revoked when its workspace is removed). No or unknown token → 401.
/// Per-route rules (a workspace token only on its own workspace) are checked by the handlers. It runs in the roles
/// that serve the API only: a worker role's one caller is the Lambda Web Adapter inside the function, passing on the
/// invoking service's event (Step Functions, EventBridge, CloudFormation), which carries no token — who may invoke the
/// function is IAM's job.
/// </summary>
public sealed class BearerAuthMiddleware(RequestDelegate next, AdminTokens adminTokens, TokenStore workspaceTokens)
{
    private const int MaxTokenLength = 512;

    public async Task InvokeAsync(HttpContext http)
    {
        if (IsOpen(http.Request.Path))
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

    /// <summary>The routes that take no token. Routing also matches a trailing slash, so the open set must too.</summary>
    public static bool IsOpen(PathString path) =>
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
