namespace Molecule.Workspaces.Providers;

/// <summary>An instance found by <see cref="IComputeProvider.ListManagedAsync"/>.</summary>
public sealed record ManagedInstance(string InstanceId, InstanceState State, DateTimeOffset LaunchedAt, IReadOnlyDictionary<string, string> Tags);

/// <summary>One page of <see cref="IComputeProvider.ListManagedAsync"/>: its instances and the token of the next page (null: none).</summary>
public sealed record ManagedInstancePage(IReadOnlyList<ManagedInstance> Instances, string? NextPageToken);
