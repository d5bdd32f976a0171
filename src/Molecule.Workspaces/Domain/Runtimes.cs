namespace Molecule.Workspaces.Domain;

/// <summary>Known values of <c>workspaces.runtime</c>; any other non-empty value is a box-backed runtime too.</summary>
public static class Runtimes
{
    /// <summary>The default agent runtime: a box the control plane owns.</summary>
    public const string Default = "agent";

    /// <summary>A workspace whose agent runs elsewhere: no box, never touched by operations or sweeps.</summary>
    public const string External = "external";
}
