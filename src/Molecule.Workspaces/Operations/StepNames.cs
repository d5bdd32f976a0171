namespace Molecule.Workspaces.Operations;

/// <summary>The step names, as the state machine's Tasks and the internal step endpoint spell them.</summary>
public static class StepNames
{
    public const string Begin = "begin";
    public const string StopOld = "stop-old";
    public const string StopExhausted = "stop-exhausted";
    public const string Write = "write";
    public const string Provision = "provision";
    public const string AwaitRunning = "await-running";
    public const string Commit = "commit";
    public const string Rollback = "rollback";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Begin, StopOld, StopExhausted, Write, Provision, AwaitRunning, Commit, Rollback,
    };
}
