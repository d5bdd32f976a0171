namespace Molecule.Workspaces.Operations;

/// <summary>An exponential retry schedule: first delay, total attempts, ×2, capped (DESIGN §5.2).</summary>
public sealed record RetrySchedule(TimeSpan FirstDelay, int Attempts, TimeSpan MaxDelay)
{
    /// <summary>stop-old: transient provider errors; 1 s, 4 attempts, ×2, at most 8 s.</summary>
    public static RetrySchedule StopOld { get; } = new(TimeSpan.FromSeconds(1), 4, TimeSpan.FromSeconds(8));

    /// <summary>provision: transient and capacity errors; 2 s, 6 attempts, ×2, at most 10 s.</summary>
    public static RetrySchedule Provision { get; } = new(TimeSpan.FromSeconds(2), 6, TimeSpan.FromSeconds(10));

    /// <summary>rollback: any error; 2 s, 8 attempts, ×2, at most 30 s.</summary>
    public static RetrySchedule Rollback { get; } = new(TimeSpan.FromSeconds(2), 8, TimeSpan.FromSeconds(30));

    /// <summary>Every step invocation that crashed or timed out (the state machine's Task <c>Retry</c>); 2 s, 6 attempts, ×2.</summary>
    public static RetrySchedule Infrastructure { get; } = new(TimeSpan.FromSeconds(2), 6, TimeSpan.MaxValue);

    /// <summary>The delay before attempt <paramref name="failedAttempts"/> + 1, after that many failures.</summary>
    public TimeSpan DelayAfter(int failedAttempts)
    {
        var factor = Math.Pow(2, Math.Max(0, failedAttempts - 1));
        var delay = TimeSpan.FromTicks((long)Math.Min(FirstDelay.Ticks * factor, MaxDelay.Ticks));
        return delay;
    }

    /// <summary>True when <paramref name="failedAttempts"/> failures have used up every attempt.</summary>
    public bool IsExhausted(int failedAttempts) => failedAttempts >= Attempts;
}
