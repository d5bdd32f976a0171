namespace Molecule.Workspaces.Domain;

/// <summary>The values of <c>operations.state</c>.</summary>
public static class OperationState
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string RolledBack = "rolled_back";
    public const string Aborted = "aborted";
    public const string Failed = "failed";

    public static bool IsActive(string state) => state is Pending or Running;
}
