namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>Waits in real time for something another thread or process brings about (a walk reaching a step, rows settling).</summary>
public static class Eventually
{
    /// <summary>
    /// Polls <paramref name="condition"/> every <paramref name="pollEvery"/> until it holds; throws a
    /// <see cref="TimeoutException"/> with <paramref name="failure"/> once <paramref name="within"/> has passed without it.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan within, TimeSpan pollEvery, string failure)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(failure);
            }

            await Task.Delay(pollEvery);
        }
    }
}
