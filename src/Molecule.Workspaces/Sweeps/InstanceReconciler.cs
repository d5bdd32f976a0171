using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// Keeps <c>online</c> honest and nothing stranded (DESIGN §7). Each tick: compensates operations whose claim
/// expired; re-dispatches operations still <c>pending</c> after two minutes (the outbox repair); checks unclaimed
/// online rows against the cloud in batches and flips a row <c>offline</c> only when a second describe, at least 5 s
/// later, still says "not running"; heals offline rows, at most 3 times per workspace per rolling hour.
/// Never touches claimed, external, paused or removed rows; treats any provider error as "unknown", never "dead";
/// and brakes when more than 3 and more than 30 % of a provider's checked rows look dead at once (an outage must not
/// become a reprovision storm). In observe mode it records what it would do and changes nothing.
/// </summary>
public sealed class InstanceReconciler(
    NpgsqlDataSource db,
    ProviderRegistry providers,
    OperationStarter starter,
    OperationCompensation compensation,
    EventStore events,
    IOperationDispatcher dispatcher,
    ReconcilerSettings settings,
    TimeProvider time,
    ILogger<InstanceReconciler> logger) : ISweep
{
    public const string SweepName = "instance-reconciler";

    /// <summary>Rows read per query; every list is paged by key.</summary>
    public const int PageSize = 1000;

    public const int MaxHealsPerWindow = 3;

    public static readonly TimeSpan HealWindow = TimeSpan.FromHours(1);

    /// <summary>More than this many dead rows of one provider in one tick can trip the brake.</summary>
    public const int MassFailureMinimum = 3;

    /// <summary>...when they are also more than this share of the provider's checked rows.</summary>
    public const double MassFailureShare = 0.30;

    /// <summary>An operation still <c>pending</c> this long after its last hand-off is handed off again.</summary>
    public static readonly TimeSpan OutboxRepairAfter = TimeSpan.FromMinutes(2);

    // (workspace, box) → when this box was first answered "not running". In memory: losing it (a cold start) only
    // delays a confirmation by one tick; it never confirms anything by itself.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(Guid, string), DateTimeOffset> firstSeenNotRunning = new();

    public string Name => SweepName;

    public async Task<SweepResult> RunOnceAsync(CancellationToken ct)
    {
        var counts = await ReconcileAsync(ct);
        return new SweepResult(
        [
            new("checked", counts.Checked),
            new("describe_calls", counts.DescribeCalls),
            new("provider_errors", counts.ProviderErrors),
            new("dead", counts.Dead),
            new("marked_offline", counts.MarkedOffline),
            new("braked", counts.Braked),
            new("healed", counts.Healed),
            new("heal_budget_exhausted", counts.BudgetExhausted),
            new("expired_claims", counts.ExpiredClaims),
            new("redispatched", counts.Redispatched),
        ], [], BudgetExhausted: ct.IsCancellationRequested);
    }

    /// <summary>One tick, with its counts: what <see cref="RunOnceAsync"/> reports as metrics.</summary>
    public async Task<ReconcileCounts> ReconcileAsync(CancellationToken ct)
    {
        var counts = new ReconcileCounts();
        await CompensateExpiredClaimsAsync(counts, ct);
        await RepairOutboxAsync(counts, ct);
        await CheckOnlineRowsAsync(counts, ct);
        await HealOfflineRowsAsync(counts, ct);
        return counts;
    }

    private async Task CompensateExpiredClaimsAsync(ReconcileCounts counts, CancellationToken ct)
    {
        const string sql = """
            SELECT id, claim_id FROM workspaces
             WHERE claim_id IS NOT NULL AND claim_expires_at < $1
             ORDER BY claim_expires_at
             LIMIT $2
            """;
        var expired = new List<(Guid WorkspaceId, Guid ClaimId)>();
        await using (var cmd = db.CreateCommand(sql))
        {
            cmd.Parameters.AddAll(Time(time.GetUtcNow()), P(PageSize));
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                expired.Add((reader.GetGuid(0), reader.GetGuid(1)));
            }
        }

        foreach (var (workspaceId, claimId) in expired)
        {
            counts.ExpiredClaims++;
            if (settings.Observe)
            {
                await ObserveAsync(workspaceId, claimId, "compensate_expired_claim", new JsonObject(), ct);
                continue;
            }

            // the compensation re-reads the operation under lock: a walk may still be alive and commit meanwhile
            var error = $"claim expired; compensated by the {SweepName}";
            if (!await compensation.CompensateAsync(workspaceId, claimId, OperationState.RolledBack, EventTypes.OperationExpired, error, ct))
            {
                await ReleaseOrphanClaimAsync(workspaceId, claimId, ct);
            }
        }
    }

    /// <summary>A claim whose operation is gone or already ended: release it back to the status before the claim.</summary>
    private async Task ReleaseOrphanClaimAsync(Guid workspaceId, Guid claimId, CancellationToken ct)
    {
        const string sql = """
            WITH released AS (
                UPDATE workspaces
                   SET status = coalesce(prior_status, 'offline'), claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL,
                       prior_status = NULL, version = version + 1, updated_at = $3
                 WHERE id = $1 AND claim_id = $2 AND claim_expires_at < $3
                RETURNING id, status
            )
            INSERT INTO structure_events (workspace_id, operation_id, event_type, payload, created_at)
            SELECT id, $2, 'workspace.operation.expired', jsonb_build_object('status', status, 'operation_missing', true), $3
              FROM released
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(workspaceId), Uuid(claimId), Time(time.GetUtcNow()));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task RepairOutboxAsync(ReconcileCounts counts, CancellationToken ct)
    {
        // updated_at moves with every hand-off, so an operation is re-dispatched at most once per repair window
        const string sql = """
            SELECT id, workspace_id FROM operations
             WHERE state = 'pending' AND updated_at < $1
             ORDER BY created_at, id
             LIMIT $2
            """;
        var stale = new List<(Guid Id, Guid WorkspaceId)>();
        await using (var cmd = db.CreateCommand(sql))
        {
            cmd.Parameters.AddAll(Time(time.GetUtcNow() - OutboxRepairAfter), P(PageSize));
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                stale.Add((reader.GetGuid(0), reader.GetGuid(1)));
            }
        }

        foreach (var (id, workspaceId) in stale)
        {
            counts.Redispatched++;
            if (settings.Observe)
            {
                await ObserveAsync(workspaceId, id, "redispatch", new JsonObject(), ct);
                continue;
            }

            await dispatcher.DispatchAsync(id, ct);
        }
    }

    private async Task CheckOnlineRowsAsync(ReconcileCounts counts, CancellationToken ct)
    {
        var suspects = new List<(OnlineRow Row, InstanceState State)>();
        var checkedPerProvider = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<(Guid, string)>();
        var wholePass = false;
        Guid? after = null;
        while (!ct.IsCancellationRequested)
        {
            var page = await ListOnlineAsync(after, ct);
            seen.UnionWith(page.Select(r => r.Key));
            if (page.Count == 0)
            {
                wholePass = true;
                break;
            }

            after = page[^1].Id;
            foreach (var byProvider in page.GroupBy(r => r.Provider, StringComparer.Ordinal))
            {
                var states = await DescribeAsync(byProvider.Key, byProvider.Select(r => r.InstanceId).ToArray(), counts, ct);
                if (states is null)
                {
                    continue;
                }

                checkedPerProvider[byProvider.Key] = checkedPerProvider.GetValueOrDefault(byProvider.Key) + byProvider.Count();
                counts.Checked += byProvider.Count();
                foreach (var row in byProvider.Where(r => states.TryGetValue(r.InstanceId, out var s) && !s.IsNotRunning()))
                {
                    firstSeenNotRunning.TryRemove(row.Key, out _);
                }

                suspects.AddRange(byProvider
                    .Where(r => states.TryGetValue(r.InstanceId, out var s) && s.IsNotRunning())
                    .Select(r => (r, states[r.InstanceId])));
            }

            if (page.Count < PageSize)
            {
                wholePass = true;
                break;
            }
        }

        if (wholePass)
        {
            // rows that left the online set (healed, deleted, claimed) take their suspicion with them
            foreach (var key in firstSeenNotRunning.Keys.Where(k => !seen.Contains(k)))
            {
                firstSeenNotRunning.TryRemove(key, out _);
            }
        }

        // one "not running" is not enough: boxes flicker through describe lag and API hiccups. A suspect first seen
        // at least ReconfirmDelay ago (an earlier tick) is confirmed by this tick's answer; a new one is asked again
        // after the delay within this tick when the tick's budget allows it, else on the next tick.
        var now = time.GetUtcNow();
        var confirmed = new List<(OnlineRow Row, InstanceState State)>();
        var fresh = new List<(OnlineRow Row, InstanceState State)>();
        foreach (var suspect in suspects)
        {
            var firstSeen = firstSeenNotRunning.GetOrAdd(suspect.Row.Key, now);
            (now - firstSeen >= settings.ReconfirmDelay ? confirmed : fresh).Add(suspect);
        }

        if (fresh.Count > 0 && settings.ReconfirmWithinTick)
        {
            await Task.Delay(settings.ReconfirmDelay, time, ct);
            foreach (var byProvider in fresh.GroupBy(s => s.Row.Provider, StringComparer.Ordinal))
            {
                var again = await DescribeAsync(byProvider.Key, byProvider.Select(s => s.Row.InstanceId).ToArray(), counts, ct);
                if (again is null)
                {
                    continue;
                }

                foreach (var (row, _) in byProvider)
                {
                    if (again.TryGetValue(row.InstanceId, out var state) && state.IsNotRunning())
                    {
                        confirmed.Add((row, state));
                    }
                    else
                    {
                        firstSeenNotRunning.TryRemove(row.Key, out _);
                    }
                }
            }
        }

        foreach (var byProvider in confirmed.GroupBy(s => s.Row.Provider, StringComparer.Ordinal))
        {
            var dead = byProvider.ToList();
            counts.Dead += dead.Count;
            var checkedRows = checkedPerProvider.GetValueOrDefault(byProvider.Key);
            if (dead.Count > MassFailureMinimum && dead.Count > MassFailureShare * checkedRows)
            {
                counts.Braked += dead.Count;
                await BrakeAsync(byProvider.Key, checkedRows, dead.Count, ct);
                continue;
            }

            foreach (var (row, state) in dead)
            {
                if (settings.Observe)
                {
                    await ObserveAsync(row.Id, null, "mark_offline",
                        new JsonObject { ["instance_id"] = row.InstanceId, ["provider"] = row.Provider, ["state"] = state.ToWire() }, ct);
                    continue;
                }

                firstSeenNotRunning.TryRemove(row.Key, out _);
                if (await MarkLostAsync(row, state, ct))
                {
                    counts.MarkedOffline++;
                }
            }
        }
    }

    private async Task<IReadOnlyList<OnlineRow>> ListOnlineAsync(Guid? after, CancellationToken ct)
    {
        const string sql = """
            SELECT id, instance_provider, instance_id
              FROM workspaces
             WHERE status = 'online' AND instance_id IS NOT NULL AND runtime <> 'external' AND claim_id IS NULL
               -- a row that changed within the grace may still be settling (describe lag of a brand-new box)
               AND updated_at < $1
               AND ($2::uuid IS NULL OR id > $2)
             ORDER BY id
             LIMIT $3
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Time(time.GetUtcNow() - settings.Grace), Uuid(after), P(PageSize));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<OnlineRow>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new OnlineRow(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }

    /// <summary>A batch describe; null when the answer is not clean (the batch is then left alone, fail-safe).</summary>
    private async Task<IReadOnlyDictionary<string, InstanceState>?> DescribeAsync(string providerName, string[] ids, ReconcileCounts counts, CancellationToken ct)
    {
        if (!providers.TryGet(providerName, out var provider))
        {
            counts.ProviderErrors++;
            return null;
        }

        counts.DescribeCalls++;
        using var timeout = new CancellationTokenSource(settings.CallTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await provider.DescribeAsync(ids, linked.Token);
        }
        catch (Exception ex) when (ex is ProviderException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            counts.ProviderErrors++;
            logger.LogWarning("describe on {provider} gave no clean answer; {count} rows left alone: {error}", providerName, ids.Length, ex.Message);
            return null;
        }
    }

    /// <summary>online → offline, only if the row is still that online, unclaimed row over that box.</summary>
    private async Task<bool> MarkLostAsync(OnlineRow row, InstanceState state, CancellationToken ct)
    {
        const string sql = """
            WITH lost AS (
                UPDATE workspaces
                   SET status = 'offline', version = version + 1, updated_at = $4
                 WHERE id = $1 AND status = 'online' AND instance_id = $2 AND instance_provider = $3 AND claim_id IS NULL
                RETURNING id
            )
            INSERT INTO structure_events (workspace_id, event_type, payload, created_at)
            SELECT id, 'workspace.instance.lost', jsonb_build_object('instance_id', $2::text, 'provider', $3::text, 'state', $5::text), $4
              FROM lost
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(row.Id), Text(row.InstanceId), Text(row.Provider), Time(time.GetUtcNow()), Text(state.ToWire()));
        var flipped = await cmd.ExecuteNonQueryAsync(ct) == 1;
        if (flipped)
        {
            logger.LogWarning("workspace {workspace_id} lost its box {instance_id} ({state}); marked offline", row.Id, row.InstanceId, state.ToWire());
        }

        return flipped;
    }

    private async Task BrakeAsync(string provider, int checkedRows, int dead, CancellationToken ct)
    {
        logger.LogError("{dead} of {checked} boxes on {provider} look dead at once; suspecting a provider outage, healing none",
            dead, checkedRows, provider);
        await events.AppendAsync(null, null, EventTypes.MassFailureSuspected, new JsonObject
        {
            ["provider"] = provider,
            ["checked"] = checkedRows,
            ["dead"] = dead,
            ["observe"] = settings.Observe,
        }, ct);
    }

    private async Task HealOfflineRowsAsync(ReconcileCounts counts, CancellationToken ct)
    {
        const string sql = """
            SELECT id FROM workspaces
             WHERE status = 'offline' AND claim_id IS NULL AND runtime <> 'external'
             ORDER BY updated_at, id
             LIMIT $1
            """;
        var offline = new List<Guid>();
        await using (var cmd = db.CreateCommand(sql))
        {
            cmd.Parameters.Add(P(PageSize));
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                offline.Add(reader.GetGuid(0));
            }
        }

        foreach (var id in offline)
        {
            if (ct.IsCancellationRequested)
            {
                return;
            }

            if (settings.Observe)
            {
                counts.Healed++;
                await ObserveAsync(id, null, "heal", new JsonObject(), ct);
                continue;
            }

            if (await MarkBudgetExhaustedAsync(id, ct))
            {
                counts.BudgetExhausted++;
                continue;
            }

            // the budget is spent only by a heal that really started: one refused (say, under a paused ancestor) costs nothing
            var started = await starter.StartAsync(new StartRequest(id, OperationKind.Heal, "reconciler"), ct);
            if (started.Outcome == StartOutcome.Started)
            {
                await SpendHealBudgetAsync(id, ct);
                counts.Healed++;
            }
        }
    }

    /// <summary>Counts one heal in the workspace's rolling hour (a new hour starts with this heal).</summary>
    private async Task SpendHealBudgetAsync(Guid id, CancellationToken ct)
    {
        const string sql = """
            UPDATE workspaces
               SET heal_count = CASE WHEN heal_window_started_at IS NULL OR heal_window_started_at <= $2 THEN 1 ELSE heal_count + 1 END,
                   heal_window_started_at = CASE WHEN heal_window_started_at IS NULL OR heal_window_started_at <= $2 THEN $3 ELSE heal_window_started_at END
             WHERE id = $1
            """;
        var now = time.GetUtcNow();
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(id), Time(now - HealWindow), Time(now));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// A box that keeps dying is not healed forever: with three heals already spent in the rolling hour, the row goes
    /// <c>failed</c> for a human to look at. False (and nothing written) while budget remains.
    /// </summary>
    private async Task<bool> MarkBudgetExhaustedAsync(Guid id, CancellationToken ct)
    {
        const string sql = """
            WITH before AS (
                SELECT id, instance_id, instance_provider FROM workspaces WHERE id = $1 FOR UPDATE
            ),
            exhausted AS (
                UPDATE workspaces w
                   SET status = 'failed', instance_id = NULL, instance_provider = NULL, url = NULL,
                       version = w.version + 1, updated_at = $3
                  FROM before b
                 WHERE w.id = b.id AND w.status = 'offline' AND w.claim_id IS NULL
                   AND w.heal_window_started_at > $2 AND w.heal_count >= $4
                RETURNING w.id, w.heal_count, w.heal_window_started_at, b.instance_id, b.instance_provider
            ),
            -- a dead box may only be stopped, not gone: a failed row must not keep paying for it
            queued AS (
                INSERT INTO pending_terminations (provider, instance_id, workspace_id, reason, next_attempt_at, created_at)
                SELECT instance_provider, instance_id, id, 'heal_budget_exhausted', $3, $3 FROM exhausted WHERE instance_id IS NOT NULL
                ON CONFLICT (provider, instance_id) DO NOTHING
            )
            INSERT INTO structure_events (workspace_id, event_type, payload, created_at)
            SELECT id, 'workspace.heal.budget_exhausted',
                   jsonb_build_object('heals', heal_count, 'window_started_at', heal_window_started_at, 'window_seconds', $5::int,
                                      'queued_instance_id', instance_id), $3
              FROM exhausted
            """;
        var now = time.GetUtcNow();
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(id), Time(now - HealWindow), Time(now), P(MaxHealsPerWindow), P((int)HealWindow.TotalSeconds));
        var exhausted = await cmd.ExecuteNonQueryAsync(ct) == 1;
        if (exhausted)
        {
            logger.LogError("workspace {workspace_id} was healed {count} times within {window}; marked failed", id, MaxHealsPerWindow, HealWindow);
        }

        return exhausted;
    }

    private Task ObserveAsync(Guid? workspaceId, Guid? operationId, string action, JsonObject detail, CancellationToken ct)
    {
        detail["action"] = action;
        return events.AppendAsync(workspaceId, operationId, EventTypes.ReconcilerObserved, detail, ct);
    }

    private sealed record OnlineRow(Guid Id, string Provider, string InstanceId)
    {
        public (Guid, string) Key => (Id, InstanceId);
    }
}

/// <summary>The reconciler's knobs, from <c>Molecule:Sweeps</c> plus two fixed waits.</summary>
/// <param name="Grace">How long an online row must be unchanged before it is checked (ReconcileGraceSeconds, 120 s).</param>
/// <param name="Observe">ReconcilerMode = observe: record what would be done, change nothing.</param>
/// <param name="ReconfirmDelay">The wait before the second describe. <value>5 s.</value></param>
/// <param name="CallTimeout">The timeout of one describe call. <value>30 s.</value></param>
/// <param name="ReconfirmWithinTick">Wait for the second describe inside the tick (the tick's budget is long enough);
/// otherwise the next tick confirms.</param>
public sealed record ReconcilerSettings(TimeSpan Grace, bool Observe, TimeSpan ReconfirmDelay, TimeSpan CallTimeout, bool ReconfirmWithinTick = true)
{
    /// <summary>DESIGN §7: the second describe at least 5 s after the first.</summary>
    public static readonly TimeSpan DefaultReconfirmDelay = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(30);

    public static ReconcilerSettings From(SweepOptions options) =>
        new(options.ReconcileGrace, options.ReconcilerObservesOnly, DefaultReconfirmDelay, DefaultCallTimeout,
            ReconfirmWithinTick: options.TickBudget >= 2 * DefaultReconfirmDelay);
}

/// <summary>What one reconciler tick saw and did.</summary>
public sealed class ReconcileCounts
{
    public int Checked { get; set; }
    public int DescribeCalls { get; set; }
    public int ProviderErrors { get; set; }
    public int Dead { get; set; }
    public int MarkedOffline { get; set; }
    public int Braked { get; set; }
    public int Healed { get; set; }
    public int BudgetExhausted { get; set; }
    public int ExpiredClaims { get; set; }
    public int Redispatched { get; set; }
}
