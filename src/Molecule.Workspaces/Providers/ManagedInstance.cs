namespace Molecule.Workspaces.Providers;

/// <summary>An instance found by <see cref="IComputeProvider.ListManagedAsync"/>.</summary>
public sealed record ManagedInstance(string InstanceId, InstanceState State, DateTimeOffset LaunchedAt, IReadOnlyDictionary<string, string> Tags);
