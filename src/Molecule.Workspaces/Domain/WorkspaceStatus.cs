namespace Molecule.Workspaces.Domain;

/// <summary>The values of <c>workspaces.status</c>.</summary>
public static class WorkspaceStatus
{
    public const string Provisioning = "provisioning";
    public const string Online = "online";
    public const string Offline = "offline";
    public const string Failed = "failed";
    public const string Paused = "paused";
    public const string Removed = "removed";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Provisioning, Online, Offline, Failed, Paused, Removed,
    };
}
