namespace Molecule.Workspaces.Operations;

/// <summary>
/// Hands a committed operation to whatever walks its steps: the in-process runner locally, the DynamoDB dispatch
/// table (→ stream → Pipe → state machine) in AWS. A hand-off that is lost is repaired by the reconciler, which
/// re-dispatches operations still <c>pending</c> after two minutes; <c>begin</c> makes duplicates harmless.
/// </summary>
public interface IOperationDispatcher
{
    Task DispatchAsync(Guid operationId, CancellationToken ct);
}
