namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// Runs one part of a tick (a pass, a provider's walk) on its own: the tick's token ending it is no failure, and any
/// other exception is the caller's to count and log while the other parts go on.
/// </summary>
internal static class SweepPass
{
    /// <summary>A pass: it does not start once the tick is out of time.</summary>
    public static Task RunAsync(Func<Task> run, Action<Exception> onFailed, Action? onStopped, CancellationToken ct) =>
        SuperviseAsync(
            () =>
            {
                ct.ThrowIfCancellationRequested();
                return run();
            },
            onFailed,
            onStopped,
            ct);

    /// <summary>A part already under way.</summary>
    public static async Task SuperviseAsync(Func<Task> run, Action<Exception> onFailed, Action? onStopped, CancellationToken ct)
    {
        try
        {
            await run();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // out of budget (or the lock was lost): the parts after this one find the token cancelled too
            onStopped?.Invoke();
        }
        catch (Exception ex)
        {
            onFailed(ex);
        }
    }
}
