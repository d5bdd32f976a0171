using System.Text.Json.Serialization;

namespace Molecule.Api.Contract;

// application/problem+json (RFC 9457) with the stable code in `error` (what the canvas reads), then `title`, `status`
// and `detail` (left out when there is none). A code's extra members come after them. Codes are part of the API: never
// rename one (Http/ProblemCodes.cs lists them, with the document each answers with).

/// <summary>What every problem has: the stable code, a title and, when there is one, a detail.</summary>
public abstract record ProblemDocument
{
    [JsonPropertyOrder(-5)]
    public string Type => "about:blank";

    [JsonPropertyOrder(-4)]
    public required string Error { get; init; }

    [JsonPropertyOrder(-3)]
    public required string Title { get; init; }

    [JsonPropertyOrder(-1)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Detail { get; init; }
}

/// <summary>A problem whose <c>status</c> is its HTTP status code (every one but the removed workspace's <c>/state</c> 404, which carries the workspace's status as the state poll reads it).</summary>
public record Problem : ProblemDocument
{
    [JsonPropertyOrder(-2)]
    public required int Status { get; init; }
}

/// <summary>410 <c>workspace removed</c>: the workspace existed and was removed (<c>?include_removed=true</c> still reads it).</summary>
public sealed record RemovedProblem : Problem
{
    public required Guid Id { get; init; }

    public required DateTimeOffset? RemovedAt { get; init; }
}

/// <summary>
/// 404 <c>NOT_FOUND</c> of <c>GET /workspaces/{id}/state</c> for a removed workspace: <c>deleted: true</c>, and
/// <c>status</c> is the workspace's (<c>removed</c>), as the canvas's state poll reads it.
/// </summary>
public sealed record RemovedStateProblem : ProblemDocument
{
    [JsonPropertyOrder(-2)]
    public required string Status { get; init; }

    public required Guid WorkspaceId { get; init; }

    public required bool Deleted { get; init; }
}

/// <summary>409 <c>INVALID_STATE</c>: <c>workspace_status</c> is the workspace's status, which does not allow the operation.</summary>
public sealed record InvalidStateProblem : Problem
{
    public required string? WorkspaceStatus { get; init; }
}

/// <summary>409 <c>ALREADY_SWITCHING</c>: the operation holding the workspace (null when it finished meanwhile).</summary>
public sealed record BusyProblem : Problem
{
    public required OperationIdAnswer? Operation { get; init; }
}

public sealed record OperationIdAnswer(Guid Id);

/// <summary>409 <c>ALREADY_SWITCHING</c>: the provider changed between the read and the claim; the provider it has now.</summary>
public sealed record ProviderChangedProblem : Problem
{
    public required string? Provider { get; init; }
}

/// <summary>412 <c>VERSION_MISMATCH</c>: <c>If-Match</c> named an older version; the current one.</summary>
public sealed record VersionMismatchProblem : Problem
{
    public required int? CurrentVersion { get; init; }
}

/// <summary>409 <c>CONFIRMATION_REQUIRED</c>: the live descendants a delete would remove (the first of them, and how many).</summary>
public sealed record ConfirmationRequiredProblem : Problem
{
    public required IReadOnlyList<ChildAnswer> Children { get; init; }

    public required int ChildrenCount { get; init; }
}

public sealed record ChildAnswer(Guid Id, string Name);

/// <summary>409 <c>DESCENDANTS</c>: the workspace has live descendants; pause or resume them with <c>?cascade=true</c>.</summary>
public sealed record DescendantsProblem : Problem
{
    public required int ChildrenCount { get; init; }
}

/// <summary>503 <c>TERMINATE_PENDING</c>: removed, but these boxes are not terminated yet; the orphan sweeper finishes them.</summary>
public sealed record TerminatePendingProblem : Problem
{
    public required int RemovedCount { get; init; }

    public required IReadOnlyList<PendingBoxAnswer> Pending { get; init; }
}

public sealed record PendingBoxAnswer(Guid? WorkspaceId, string InstanceId, string Provider, string? LastError);

/// <summary>409 <c>SWEEP_RUNNING</c> (role <c>sweeps</c>): a tick of this sweep is running here or in another process.</summary>
public sealed record SweepRunningProblem : Problem
{
    public required string Sweep { get; init; }
}
