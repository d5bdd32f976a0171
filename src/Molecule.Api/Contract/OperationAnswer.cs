namespace Molecule.Api.Contract;

/// <summary>
/// <c>GET /operations/{id}</c> and each item of <c>GET /operations?state=stuck</c>: where an operation is, with its Step
/// Functions execution and a console link when it runs in AWS.
/// </summary>
public sealed record OperationAnswer(
    Guid Id,
    Guid WorkspaceId,
    string Kind,
    string State,
    string? Step,
    string? Error,
    string? ExecutionArn,
    string? ConsoleUrl,
    int DispatchCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);
