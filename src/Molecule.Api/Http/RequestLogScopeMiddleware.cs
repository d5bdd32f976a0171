using Molecule.Workspaces.Operations;

namespace Molecule.Api.Http;

/// <summary>
/// Puts the workspace or operation a request is about (<c>/workspaces/{id}/…</c>, <c>/operations/{id}</c>) into the log
/// scope, so every entry the request writes carries <c>workspace_id</c> or <c>operation_id</c>. Runs after routing,
/// which has already matched the route's <c>{id}</c>; an id that is not a UUID adds nothing (the handler answers 400).
/// </summary>
public sealed class RequestLogScopeMiddleware(RequestDelegate next, ILogger<RequestLogScopeMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (http.GetRouteValue("id") is not string raw || !Guid.TryParse(raw, out var id))
        {
            await next(http);
            return;
        }

        using var scope = http.Request.Path.StartsWithSegments("/operations")
            ? LogScopes.ForOperation(logger, id)
            : LogScopes.ForWorkspace(logger, id);
        await next(http);
    }
}
