using Microsoft.Extensions.Logging;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>
/// One Postgres session-level advisory lock per sweep, tried (never waited for) at the start of a tick: two processes
/// on one database (a second local replica, a manual invoke beside the schedule) never run the same sweep at once.
/// The lock lives on one connection held for the tick; <see cref="SweepLease.Lost"/> fires if that connection dies
/// (the server then dropped the lock, and another process may take it), so the tick stops taking new work.
/// </summary>
public sealed class SweepLockStore(NpgsqlDataSource db, TimeProvider time, ILogger logger)
{
    /// <summary>How often the held connection is probed. <value>5 s.</value></summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(5);

    /// <summary>The held lease, or null when another session holds this sweep's lock.</summary>
    public async Task<SweepLease?> TryAcquireAsync(string sweep, CancellationToken ct)
    {
        // one pooled connection for the whole tick; the sweep's own statements use others, so its parallelism is bounded
        // by its own settings, never by this one
        var conn = await db.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = Command(conn, null, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", Text(LockName(sweep)));
            if ((bool)(await cmd.ExecuteScalarAsync(ct))!)
            {
                return new SweepLease(conn, LockName(sweep), time, logger);
            }

            await conn.DisposeAsync();
            return null;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens a tick of <paramref name="sweep"/> as every sweep opens one: not at all when it is already out of time;
    /// skipped, and said so, when another process holds the lock; else under the lock, with a token the budget or the
    /// lock's loss cancels, and no new page past <paramref name="newPagesWithin"/> from now.
    /// </summary>
    public async Task<LockedTick> OpenTickAsync(string sweep, TimeSpan newPagesWithin, CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
        {
            return LockedTick.OutOfTimeAlready;
        }

        var lease = await TryAcquireAsync(sweep, ct);
        if (lease is null)
        {
            logger.LogWarning("{sweep} tick skipped: another process holds its lock and is running it", sweep);
            return LockedTick.HeldElsewhere;
        }

        var tick = CancellationTokenSource.CreateLinkedTokenSource(ct, lease.Lost);
        return new LockedTick(lease, tick, time.GetUtcNow() + newPagesWithin);
    }

    private static string LockName(string sweep) => $"molecule.sweep:{sweep}";
}

/// <summary>
/// A sweep's tick as <see cref="SweepLockStore.OpenTickAsync"/> opened it: under its lock (<see cref="Opened"/>), or
/// refused because it was <see cref="OutOfTime"/> before it began or <see cref="Skipped"/> for another process's.
/// Dispose ends the tick's token, then releases the lock.
/// </summary>
public sealed class LockedTick : IAsyncDisposable
{
    internal static readonly LockedTick OutOfTimeAlready = new(outOfTime: true, skipped: false);
    internal static readonly LockedTick HeldElsewhere = new(outOfTime: false, skipped: true);

    private readonly SweepLease? lease;
    private readonly CancellationTokenSource? tick;

    internal LockedTick(SweepLease lease, CancellationTokenSource tick, DateTimeOffset stopNewPagesAt)
    {
        this.lease = lease;
        this.tick = tick;
        StopNewPagesAt = stopNewPagesAt;
    }

    private LockedTick(bool outOfTime, bool skipped) => (OutOfTime, Skipped) = (outOfTime, skipped);

    public bool Opened => lease is not null;

    /// <summary>The tick's token was cancelled before it began: it did nothing.</summary>
    public bool OutOfTime { get; }

    /// <summary>Another process held the sweep's lock: this tick did nothing.</summary>
    public bool Skipped { get; }

    /// <summary>Cancelled when the budget runs out or the lock is lost.</summary>
    public CancellationToken Token => tick?.Token ?? CancellationToken.None;

    /// <summary>No new page starts past this moment, so the calls in flight end inside the budget.</summary>
    public DateTimeOffset StopNewPagesAt { get; }

    public async ValueTask DisposeAsync()
    {
        tick?.Dispose();
        if (lease is not null)
        {
            await lease.DisposeAsync();
        }
    }
}

/// <summary>A held sweep lock. Dispose releases it (and the connection); <see cref="Lost"/> fires if the connection dies first.</summary>
public sealed class SweepLease : IAsyncDisposable
{
    private readonly NpgsqlConnection conn;
    private readonly string name;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CancellationTokenSource lost = new();
    private readonly CancellationTokenSource stopProbing = new();
    private readonly Task probing;

    internal SweepLease(NpgsqlConnection conn, string name, TimeProvider time, ILogger logger)
    {
        this.conn = conn;
        this.name = name;
        this.time = time;
        this.logger = logger;
        probing = ProbeAsync();
    }

    /// <summary>Cancelled once the lock's connection is found dead: the lock is gone with it.</summary>
    public CancellationToken Lost => lost.Token;

    /// <summary>The backend holding the lock (tests end it to play a connection dying mid-tick).</summary>
    public int ProcessId => conn.ProcessID;

    public async ValueTask DisposeAsync()
    {
        await stopProbing.CancelAsync();
        await probing;
        if (!lost.IsCancellationRequested)
        {
            try
            {
                await using var cmd = Command(conn, null, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", Text(name));
                await cmd.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                // the session is going away with the connection below, and the lock with it
                logger.LogWarning(ex, "sweep lock {lock} could not be released explicitly; closing its connection releases it", name);
            }
        }

        await conn.DisposeAsync();
        lost.Dispose();
        stopProbing.Dispose();
    }

    private async Task ProbeAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(SweepLockStore.ProbeInterval, time, stopProbing.Token);
                await using var cmd = Command(conn, null, "SELECT 1");
                await cmd.ExecuteScalarAsync(stopProbing.Token);
            }
        }
        catch (OperationCanceledException) when (stopProbing.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "the connection holding sweep lock {lock} died; the tick stops taking new work", name);
            await lost.CancelAsync();
        }
    }
}
