namespace Molecule.Workspaces.Domain;

/// <summary>One row of <c>operations</c>.</summary>
public sealed record Operation
{
    public required Guid Id { get; init; }
    public required Guid WorkspaceId { get; init; }
    public required string Kind { get; init; }
    public required string State { get; init; }
    public string? Step { get; init; }
    public required OperationInput Input { get; init; }
    public required OperationProgress Progress { get; init; }
    public string? Error { get; init; }
    public string? ExecutionArn { get; init; }
    public int DispatchCount { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
}
