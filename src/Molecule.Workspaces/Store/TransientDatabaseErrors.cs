using Npgsql;
using Polly;
using Polly.Retry;

namespace Molecule.Workspaces.Store;

/// <summary>
/// Which database errors are worth retrying, and the in-step retry of DESIGN §5.2 for them
/// (begin, write, commit: 1 s first delay, 3 attempts, ×2, at most 4 s).
/// </summary>
public static class TransientDatabaseErrors
{
    public static bool IsTransient(Exception ex) => ex switch
    {
        // 08: the connection broke; 57P0x: the server is shutting down or restarting (what a failover does to open connections)
        PostgresException pg => pg.IsTransient
            || pg.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
            || pg.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("57P0", StringComparison.Ordinal),
        NpgsqlException npgsql => npgsql.IsTransient,
        TimeoutException => true,
        _ => false,
    };

    /// <summary>A pipeline for step work that only touches the database.</summary>
    public static ResiliencePipeline StepPipeline(TimeProvider time) => new ResiliencePipelineBuilder { TimeProvider = time }
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            Delay = TimeSpan.FromSeconds(1),
            BackoffType = DelayBackoffType.Exponential,
            MaxDelay = TimeSpan.FromSeconds(4),
            // "3 attempts" in all: the first try and two retries
            MaxRetryAttempts = 2,
            UseJitter = false,
        })
        .Build();
}
