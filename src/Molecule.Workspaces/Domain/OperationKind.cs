namespace Molecule.Workspaces.Domain;

/// <summary>The values of <c>operations.kind</c> and <c>workspaces.claim_kind</c>.</summary>
public static class OperationKind
{
    public const string Create = "create";
    public const string Restart = "restart";
    public const string Heal = "heal";
    public const string SwitchProvider = "switch-provider";
    public const string Pause = "pause";
    public const string Resume = "resume";

    /// <summary>The statuses a kind may claim a row from (DESIGN §4). Create inserts its row already claimed.</summary>
    public static IReadOnlyList<string> ClaimableStatuses(string kind) => kind switch
    {
        Restart or SwitchProvider or Pause => [WorkspaceStatus.Online, WorkspaceStatus.Offline, WorkspaceStatus.Failed],
        Resume => [WorkspaceStatus.Paused],
        Heal => [WorkspaceStatus.Offline],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "kind cannot claim an existing row"),
    };

    /// <summary>Kinds refused while any ancestor is paused (DESIGN §4). Heal is not one: it only restores a row to the
    /// online state it already had, and a row left offline under a paused parent would otherwise wait forever.</summary>
    public static bool RequiresUnpausedAncestors(string kind) => kind is Restart or SwitchProvider or Resume;
}
