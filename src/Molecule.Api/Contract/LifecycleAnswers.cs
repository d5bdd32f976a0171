namespace Molecule.Api.Contract;

/// <summary><c>PATCH /workspaces/{id}</c> → 200 <c>{status: "updated", version}</c>.</summary>
public sealed record UpdatedAnswer(string Status, int Version)
{
    public static UpdatedAnswer Of(int version) => new("updated", version);
}

/// <summary><c>DELETE /workspaces/{id}</c> → 200: <c>cascade_deleted</c> counts the descendants removed with it.</summary>
public sealed record DeletedAnswer(string Status, int CascadeDeleted)
{
    public static DeletedAnswer Of(int cascadeDeleted) => new("removed", cascadeDeleted);
}

/// <summary>
/// 200 <c>noop</c>: nothing to do. A restart of an external workspace answers <c>{status, workspace_id}</c>; a switch to the
/// provider the workspace is already on adds <c>provider</c>.
/// </summary>
public sealed record NoopAnswer(
    string Status,
    Guid WorkspaceId,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    string? Provider = null)
{
    public static NoopAnswer For(Guid workspaceId, string? provider = null) => new("noop", workspaceId, provider);
}

/// <summary>202 of a restart: the operation that serves it (a new one, or the one already holding the claim).</summary>
public sealed record OperationStartedAnswer(string Status, OperationRef Operation);

/// <summary>202 of a switch (<c>POST …/switch-provider</c>, or <c>PATCH</c> of <c>compute.provider</c>).</summary>
public sealed record SwitchingAnswer(string Status, Guid WorkspaceId, string From, string To, OperationRef Operation);

/// <summary>202 of a pause or resume: the workspace's operation and one entry per live descendant (<c>?cascade=true</c>).</summary>
public sealed record CascadeAnswer(string Status, OperationRef Operation, IReadOnlyList<CascadeChildAnswer> Cascade);

/// <summary>A descendant of a pause or resume: its operation, or why it was skipped.</summary>
public sealed record CascadeChildAnswer(Guid Id, OperationRef? Operation, string? Skipped);
