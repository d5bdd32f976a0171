namespace Molecule.Workspaces.Providers;

/// <summary>A box as the database knows it: which provider owns it, and the workspace it belonged to (if any).</summary>
public sealed record BoxRef(Guid? WorkspaceId, string Provider, string InstanceId);

/// <summary>What happened to one box of a batched terminate: <see cref="Error"/> is null when it is gone.</summary>
public sealed record BoxTermination(BoxRef Box, string? Error)
{
    public bool Terminated => Error is null;
}
