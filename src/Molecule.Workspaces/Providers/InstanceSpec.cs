namespace Molecule.Workspaces.Providers;

/// <summary>What to start: the workspace's <c>compute</c> as the provider needs it.</summary>
/// <param name="InstanceType">Requested type, or null for the provider's default.</param>
/// <param name="DataPersistence"><c>persist</c> or <c>ephemeral</c>.</param>
/// <param name="RootVolumeGb">Root volume size in GiB, or null for the provider's default.</param>
public sealed record InstanceSpec(string? InstanceType, string DataPersistence, int? RootVolumeGb);
