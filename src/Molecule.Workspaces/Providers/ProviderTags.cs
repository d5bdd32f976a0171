namespace Molecule.Workspaces.Providers;

/// <summary>The tags every box is started with, in the same call that starts it.</summary>
public static class ProviderTags
{
    public const string Deployment = "molecule:deployment";
    public const string WorkspaceId = "molecule:workspace-id";
    public const string OperationId = "molecule:operation-id";
    public const string Name = "Name";
}
