using Molecule.Api.Auth;

namespace Molecule.Api.Http;

/// <summary>
/// The routes that are no one workspace's (create, the list, the stuck operations, the providers, the simulated cloud)
/// take the admin token only: a workspace token gets 403 before the handler runs, having read or changed nothing.
/// One filter on their route group.
/// </summary>
public sealed class AdminOnlyFilter : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Caller().IsAdmin ? next(context) : ValueTask.FromResult<object?>(Problems.Forbidden());
}

public static class AdminOnlyEndpointExtensions
{
    /// <summary>Admin token only, for every route of the group (and documented as 403 <c>FORBIDDEN</c> for the others).</summary>
    public static RouteGroupBuilder RequireAdmin(this RouteGroupBuilder group) =>
        group.AddEndpointFilter(new AdminOnlyFilter()).ProducesProblems(ProblemCodes.Forbidden);
}
