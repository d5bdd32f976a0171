namespace Molecule.Workspaces.Providers;

/// <summary>
/// One cloud account/region that can run workspace boxes. Every call is batched where the cloud allows,
/// and an answer is only ever given when it is known: an unknown state is an exception, never "not running".
/// </summary>
public interface IComputeProvider
{
    /// <summary>The configured name (<c>sim-east</c>, <c>aws-us-east-1</c>); stored as <c>instance_provider</c>.</summary>
    string Name { get; }

    /// <summary>The provider type: <c>sim</c> or <c>ec2</c>.</summary>
    string Type { get; }

    /// <summary>
    /// Starts one box. Calling it again with the same <paramref name="idempotencyToken"/> returns the same
    /// instance id and starts nothing (EC2 <c>ClientToken</c> semantics), so a retried step never starts two boxes.
    /// The tags are applied in the same call, so a box can never exist untagged.
    /// </summary>
    Task<string> ProvisionAsync(InstanceSpec spec, string idempotencyToken, IReadOnlyDictionary<string, string> tags, CancellationToken ct);

    /// <summary>State per requested id. Ids the cloud does not know are <see cref="InstanceState.NotFound"/>. No call is made for an empty list.</summary>
    Task<IReadOnlyDictionary<string, InstanceState>> DescribeAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct);

    /// <summary>Result per requested id; an id that is already gone counts as terminated.</summary>
    Task<IReadOnlyDictionary<string, TerminateResult>> TerminateAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct);

    /// <summary>
    /// One page of the not-terminated instances carrying this deployment's <c>molecule:deployment</c> tag (up to 1000),
    /// starting at <paramref name="pageToken"/> (null: the first page). The page's <see cref="ManagedInstancePage.NextPageToken"/>
    /// asks for the next one; null means the list is done. Paged so a sweep can stop within its budget and go on later.
    /// </summary>
    Task<ManagedInstancePage> ListManagedAsync(string? pageToken, CancellationToken ct);
}
