namespace Molecule.Api.Auth;

/// <summary>Who made the request: an admin, or the holder of one workspace's token.</summary>
public sealed record Caller(bool IsAdmin, Guid? WorkspaceId)
{
    public static Caller Admin { get; } = new(true, null);

    public static Caller ForWorkspace(Guid id) => new(false, id);

    public bool MayAccess(Guid workspaceId) => IsAdmin || WorkspaceId == workspaceId;
}

public static class CallerHttpContextExtensions
{
    private const string Key = "molecule.caller";

    public static void SetCaller(this HttpContext http, Caller caller) => http.Items[Key] = caller;

    /// <summary>Set by <see cref="BearerAuthMiddleware"/> for every route but health; its absence is a wiring bug.</summary>
    public static Caller Caller(this HttpContext http) =>
        http.Items[Key] as Caller ?? throw new InvalidOperationException("route ran without authentication");
}
