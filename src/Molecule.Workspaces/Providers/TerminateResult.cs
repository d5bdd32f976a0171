namespace Molecule.Workspaces.Providers;

/// <summary>The answer for one id of a batched terminate.</summary>
public sealed record TerminateResult(bool Terminated, string? Error)
{
    public static TerminateResult Ok { get; } = new(true, null);

    public static TerminateResult Failed(string error) => new(false, error);
}
