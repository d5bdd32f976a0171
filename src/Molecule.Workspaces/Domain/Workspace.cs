namespace Molecule.Workspaces.Domain;

/// <summary>One row of <c>workspaces</c>.</summary>
public sealed record Workspace
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public Guid? ParentId { get; init; }
    public required string Status { get; init; }
    public required string Runtime { get; init; }
    public int Tier { get; init; }
    public double X { get; init; }
    public double Y { get; init; }
    public bool Collapsed { get; init; }
    public required Compute Compute { get; init; }
    public string? InstanceId { get; init; }
    public string? InstanceProvider { get; init; }
    public string? Url { get; init; }
    public Guid? ClaimId { get; init; }
    public string? ClaimKind { get; init; }
    public DateTimeOffset? ClaimExpiresAt { get; init; }
    public string? PriorStatus { get; init; }
    public int HealCount { get; init; }
    public DateTimeOffset? HealWindowStartedAt { get; init; }
    public int Version { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? RemovedAt { get; init; }

    public bool IsExternal => Runtime == Runtimes.External;
}
