using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Npgsql;
using NpgsqlTypes;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// The orphan sweeper (DESIGN §7): no box outlives the rows that owned it. Each tick, in this order:
/// (1) removed rows that still name a box → batched terminate → <c>instance_id = NULL</c> only where the row still
/// names that very box; (2) <c>pending_terminations</c> whose time has come → batched terminate → confirmed rows
/// deleted, failed rows retried on their own backoff (1 min ×2, at most 1 h); (3) row-gone leaks: this deployment's
/// boxes, older than the leak grace, that nothing owns → terminated, one <c>workspace.instance.leak_reaped</c> each.
/// Never touches a <c>runtime = 'external'</c> row, nor a box that any row, active operation or queue entry owns.
/// Acts on clean answers only: a failed terminate changes nothing, a provider whose list fails is skipped this tick.
/// Every read is bounded (the constants below) and the tick stops when its budget (the token) fires; one result per
/// item, errors combined at the end, so one bad item never stops the sweep.
/// </summary>
public sealed class OrphanSweeper(
    NpgsqlDataSource db,
    WorkspaceStore workspaces,
    PendingTerminationStore pendingTerminations,
    EventStore events,
    ProviderRegistry providers,
    BatchTerminator terminator,
    DeploymentIdentity deployment,
    SweepOptions options,
    TimeProvider time,
    ILogger<OrphanSweeper> logger) : ISweep
{
    /// <summary>Removed rows read per page: one terminate call's worth.</summary>
    public const int RemovedPageSize = BatchTerminator.MaxIdsPerCall;

    /// <summary>Pages of removed rows per tick; the next tick resumes where this one stopped.</summary>
    public const int RemovedPagesPerTick = 10;

    /// <summary>Due <c>pending_terminations</c> rows drained per tick.</summary>
    public const int PendingPageSize = BatchTerminator.MaxIdsPerCall;

    /// <summary>Listed boxes whose owners are looked up per query.</summary>
    public const int OwnershipPageSize = 1000;

    /// <summary>Leaks reaped per provider per tick; more wait for the next tick.</summary>
    public const int LeaksPerProviderPerTick = BatchTerminator.MaxIdsPerCall;

    /// <summary>Item errors kept in the result and the log line; the counts stay exact.</summary>
    public const int ReportedErrors = 20;

    /// <summary>The timeout of one provider list call.</summary>
    public static readonly TimeSpan ListCallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long an <c>Idempotency-Key</c> answer is kept for a retrying client: a day.</summary>
    public static readonly TimeSpan IdempotencyRetention = TimeSpan.FromHours(24);

    /// <summary>When a queued box whose terminate failed is tried again: 1 min after the first failure, ×2, at most 1 h.</summary>
    public static readonly RetrySchedule PendingBackoff = new(TimeSpan.FromMinutes(1), int.MaxValue, TimeSpan.FromHours(1));

    // where the last tick's walk over removed rows stopped; ticks of one sweeper never overlap (the scheduler)
    private Guid? removedResumeAfter;

    public string Name => "orphan-sweeper";

    public async Task<SweepResult> RunOnceAsync(CancellationToken ct)
    {
        var tally = new OrphanSweepTally();

        // each part is supervised on its own: a database error in one must not keep the others from their work
        var finished = await RunPartAsync("removed_rows", tally, () => SweepRemovedRowsAsync(tally, ct), ct)
            && await RunPartAsync("pending_terminations", tally, () => DrainPendingTerminationsAsync(tally, ct), ct)
            && await RunPartAsync("row_gone_leaks", tally, () => ReapRowGoneLeaksAsync(tally, ct), ct)
            && await RunPartAsync("idempotency_keys", tally, () => PurgeIdempotencyKeysAsync(tally, ct), ct);

        if (tally.Failed > 0 || tally.PartsFailed > 0)
        {
            logger.LogWarning("orphan sweep: {failed} items failed, {parts} parts failed: {errors}",
                tally.Failed, tally.PartsFailed, string.Join("; ", tally.Errors));
        }

        return tally.ToResult(budgetExhausted: !finished);
    }

    /// <summary>
    /// (4) Housekeeping: idempotency records older than <see cref="IdempotencyRetention"/>. They hold the create's answer,
    /// workspace token included, so they must not outlive the window in which a client could still retry.
    /// </summary>
    private async Task PurgeIdempotencyKeysAsync(OrphanSweepTally tally, CancellationToken ct)
    {
        const string sql = """
            DELETE FROM idempotency_keys
             WHERE key IN (SELECT key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() - IdempotencyRetention });
        cmd.Parameters.Add(new NpgsqlParameter { Value = PendingPageSize });
        tally.IdempotencyKeysPurged += await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>(1) Removed rows that still name a box: terminate, then forget the box only where the row still names it.</summary>
    private async Task SweepRemovedRowsAsync(OrphanSweepTally tally, CancellationToken ct)
    {
        // resume where the last tick stopped, so rows whose terminate keeps failing can never starve the rows after them
        var after = removedResumeAfter;
        for (var page = 0; page < RemovedPagesPerTick; page++)
        {
            ct.ThrowIfCancellationRequested();
            var boxes = await workspaces.ListRemovedWithBoxAsync(after, RemovedPageSize, ct);
            tally.RemovedFound += boxes.Count;
            after = boxes.Count == RemovedPageSize ? boxes[^1].WorkspaceId : null;
            var external = await ExternalRowIdsAsync(boxes, ct);
            var owned = boxes.Where(b => !external.Contains(b.WorkspaceId!.Value)).ToList();
            tally.ExternalSkipped += boxes.Count - owned.Count;

            var results = await terminator.TerminateAsync(owned, ct);
            var terminated = results.Where(r => r.Terminated).Select(r => r.Box).ToList();

            // the cloud confirmed these: record it even if the budget runs out now, or the next tick repeats the calls
            tally.RemovedCleared += await workspaces.ClearTerminatedBoxesAsync(terminated, CancellationToken.None);
            await AppendTerminatedEventsAsync(terminated, "workspace_removed", CancellationToken.None);
            tally.RemovedTerminated += terminated.Count;
            tally.RemovedFailed += tally.RecordFailures(results);
            if (after is null)
            {
                break;
            }
        }

        // at the end of the rows the next tick starts from the first again
        removedResumeAfter = after;
    }

    /// <summary>(2) Queued boxes whose time has come: confirmed ones leave the queue, failed ones back off per row.</summary>
    private async Task DrainPendingTerminationsAsync(OrphanSweepTally tally, CancellationToken ct)
    {
        DuePage page;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            page = await pendingTerminations.ListDueAsync(conn, PendingPageSize, ct);
        }

        var due = page.Due;
        tally.PendingDue += due.Count;
        tally.PendingPostponed += page.Postponed;
        if (due.Count == 0)
        {
            return;
        }

        // (provider, instance_id) is unique in the queue, so each box maps back to exactly one row
        var rowOf = due.ToDictionary(p => p.Box);
        var results = await terminator.TerminateAsync(rowOf.Keys, ct);
        var now = time.GetUtcNow();
        var terminated = results.Where(r => r.Terminated).Select(r => rowOf[r.Box]).ToList();
        var failures = results.Where(r => !r.Terminated)
            .Select(r => new PendingTerminationFailure(rowOf[r.Box].Id, r.Error!, now + PendingBackoff.DelayAfter(rowOf[r.Box].Attempts + 1)))
            .ToList();

        // the cloud answered: record it whatever the budget says now (no connection is held across the cloud call)
        await using (var conn = await db.OpenConnectionAsync(CancellationToken.None))
        {
            await pendingTerminations.DeleteAsync(conn, terminated.Select(p => p.Id).ToList(), CancellationToken.None);
            await pendingTerminations.RecordFailuresAsync(conn, failures, CancellationToken.None);
        }

        foreach (var byReason in terminated.GroupBy(p => p.Reason))
        {
            await AppendTerminatedEventsAsync(byReason.Select(p => p.Box).ToList(), byReason.Key, CancellationToken.None);
        }

        tally.PendingTerminated += terminated.Count;
        tally.PendingFailed += tally.RecordFailures(results);
    }

    /// <summary>(3) Row-gone leaks, provider by provider: the cloud's list, minus what the database says is owned.</summary>
    private async Task ReapRowGoneLeaksAsync(OrphanSweepTally tally, CancellationToken ct)
    {
        foreach (var provider in providers.All)
        {
            ct.ThrowIfCancellationRequested();

            // The cloud first, then the database (Karpenter's order): every box listed here existed before the
            // ownership read below, so the read sees its owner if it has one. Read the other way round, a box started
            // (and recorded) after the database read would look unowned, and only the grace would stand between it
            // and a terminate.
            var listed = await ListManagedAsync(provider, tally, ct);
            if (listed is null)
            {
                continue;
            }

            tally.InstancesListed += listed.Count;
            var now = time.GetUtcNow();
            var unowned = await UnownedAsync(provider.Name, listed.Where(box => IsLeakCandidate(box, now)).ToList(), ct);
            tally.LeaksFound += unowned.Count;
            if (unowned.Count == 0)
            {
                continue;
            }

            var boxes = unowned.ToDictionary(b => new BoxRef(TagGuid(b, ProviderTags.WorkspaceId), provider.Name, b.InstanceId));
            var results = await terminator.TerminateAsync(boxes.Keys, ct);
            var reaped = results.Where(r => r.Terminated).Select(r => (r.Box, Instance: boxes[r.Box])).ToList();
            await AppendLeakReapedEventsAsync(reaped, CancellationToken.None);
            tally.Leaked += reaped.Count;
            tally.LeakFailed += tally.RecordFailures(results);
        }
    }

    /// <summary>
    /// The guards a listed box passes before the database is asked who owns it; each names the case it excludes.
    /// Ownership itself (rows, operations, the queue) is <see cref="UnownedAsync"/>'s.
    /// </summary>
    private bool IsLeakCandidate(ManagedInstance box, DateTimeOffset now)
    {
        // only this deployment's boxes are ours, whatever a provider's list returns: another stack may share the account
        if (!box.Tags.TryGetValue(ProviderTags.Deployment, out var tagged) || tagged != deployment.Id)
        {
            return false;
        }

        // already going: a terminate would only repeat what the cloud is doing
        if (box.State is InstanceState.ShuttingDown or InstanceState.Terminated or InstanceState.NotFound)
        {
            return false;
        }

        // younger than the grace: an operation may still be between its cloud call and its database write
        return now - box.LaunchedAt >= options.LeakGrace;
    }

    /// <summary>
    /// The candidates nothing in the database owns, in bounded pages, at most <see cref="LeaksPerProviderPerTick"/>.
    /// A box is owned when any workspace row names it (a live row is using it; a removed row is step (1)'s work, with
    /// its own retries; an external row is never touched), when an active operation recorded it as its new box, when
    /// it is queued (the drain owns its backoff), or when its <c>molecule:operation-id</c> tag names an active
    /// operation (the crash window between the cloud call and the progress write).
    /// </summary>
    private async Task<IReadOnlyList<ManagedInstance>> UnownedAsync(string provider, IReadOnlyList<ManagedInstance> candidates, CancellationToken ct)
    {
        const string sql = """
            SELECT c.instance_id
              FROM unnest($2::text[], $3::uuid[]) AS c(instance_id, tagged_operation_id)
             WHERE NOT EXISTS (SELECT 1 FROM workspaces w
                                WHERE w.instance_provider = $1 AND w.instance_id = c.instance_id)
               AND NOT EXISTS (SELECT 1 FROM operations o
                                WHERE o.state IN ('pending', 'running')
                                  AND o.progress->>'newInstanceId' = c.instance_id
                                  -- a progress without its provider still owns the box: never reap on a doubt
                                  AND coalesce(o.progress->>'newInstanceProvider', $1) = $1)
               AND NOT EXISTS (SELECT 1 FROM pending_terminations p
                                WHERE p.provider = $1 AND p.instance_id = c.instance_id)
               AND NOT EXISTS (SELECT 1 FROM operations o
                                WHERE o.id = c.tagged_operation_id AND o.state IN ('pending', 'running'))
            """;
        var unowned = new List<ManagedInstance>();
        foreach (var page in candidates.Chunk(OwnershipPageSize))
        {
            ct.ThrowIfCancellationRequested();
            await using var cmd = db.CreateCommand(sql);
            cmd.Parameters.AddAll(
                Text(provider),
                TextArray(page.Select(b => b.InstanceId)),
                new NpgsqlParameter { Value = page.Select(b => TagGuid(b, ProviderTags.OperationId)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            var ids = new HashSet<string>(StringComparer.Ordinal);
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    ids.Add(reader.GetString(0));
                }
            }

            unowned.AddRange(page.Where(b => ids.Contains(b.InstanceId)));
            if (unowned.Count >= LeaksPerProviderPerTick)
            {
                return unowned.Take(LeaksPerProviderPerTick).ToList();
            }
        }

        return unowned;
    }

    /// <summary>The provider's tagged boxes, or null when the list has no clean answer: then nothing is concluded this tick.</summary>
    private async Task<IReadOnlyList<ManagedInstance>?> ListManagedAsync(IComputeProvider provider, OrphanSweepTally tally, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(ListCallTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await provider.ListManagedAsync(linked.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            tally.ProvidersSkipped++;
            tally.AddError($"{provider.Name}: list failed, provider skipped this tick: {ex.Message}");
            logger.LogWarning(ex, "orphan sweep skipped provider {provider}: its list call failed", provider.Name);
            return null;
        }
    }

    /// <summary>Which of the rows are <c>runtime = 'external'</c>: never touched, even if one names a box by hand-edit.</summary>
    private async Task<IReadOnlySet<Guid>> ExternalRowIdsAsync(IReadOnlyList<BoxRef> boxes, CancellationToken ct)
    {
        var ids = new HashSet<Guid>();
        if (boxes.Count == 0)
        {
            return ids;
        }

        const string sql = """
            SELECT id
              FROM workspaces
             WHERE id = ANY($1) AND runtime = 'external'
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(UuidArray(boxes.Select(b => b.WorkspaceId!.Value)));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    /// <summary>One <c>workspace.instance.stopped</c> per terminated box, in one statement, so a removed workspace's log shows the repair.</summary>
    private async Task AppendTerminatedEventsAsync(IReadOnlyList<BoxRef> boxes, string reason, CancellationToken ct)
    {
        if (boxes.Count == 0)
        {
            return;
        }

        const string sql = """
            INSERT INTO structure_events (workspace_id, event_type, payload, created_at)
            SELECT t.workspace_id, $4,
                   jsonb_build_object('instance_id', t.instance_id, 'provider', t.provider,
                                      'reason', $5::text, 'recovered_by', 'orphan_sweeper'),
                   $6
              FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(workspace_id, instance_id, provider)
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(
            new NpgsqlParameter { Value = boxes.Select(b => b.WorkspaceId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
            TextArray(boxes.Select(b => b.InstanceId)),
            TextArray(boxes.Select(b => b.Provider)),
            Text(EventTypes.InstanceStopped),
            Text(reason),
            Time(time.GetUtcNow()));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>One <c>workspace.instance.leak_reaped</c> per reaped box, under the workspace and operation its tags name.</summary>
    private async Task AppendLeakReapedEventsAsync(IReadOnlyList<(BoxRef Box, ManagedInstance Instance)> reaped, CancellationToken ct)
    {
        if (reaped.Count == 0)
        {
            return;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        foreach (var (box, instance) in reaped)
        {
            var operationId = TagGuid(instance, ProviderTags.OperationId);
            await events.AppendAsync(conn, null, box.WorkspaceId, operationId, EventTypes.LeakReaped, new JsonObject
            {
                ["instance_id"] = box.InstanceId,
                ["provider"] = box.Provider,
                ["launched_at"] = instance.LaunchedAt,
                ["workspace_id"] = instance.Tags.GetValueOrDefault(ProviderTags.WorkspaceId),
                ["operation_id"] = instance.Tags.GetValueOrDefault(ProviderTags.OperationId),
                ["state"] = instance.State.ToWire(),
            }, ct);
            logger.LogWarning("reaped leaked instance {instance_id} on {provider}, launched {launched_at}, tagged for workspace {workspace_id}",
                box.InstanceId, box.Provider, instance.LaunchedAt, box.WorkspaceId);
        }
    }

    private async Task<bool> RunPartAsync(string part, OrphanSweepTally tally, Func<Task> run, CancellationToken ct)
    {
        try
        {
            await run();
            return true;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            logger.LogWarning("orphan sweep stopped in {part}: the tick's budget ran out", part);
            return false;
        }
        catch (Exception ex)
        {
            tally.PartsFailed++;
            tally.AddError($"{part}: {ex.Message}");
            logger.LogError(ex, "orphan sweep part {part} failed; the other parts still run", part);
            return true;
        }
    }

    private static Guid? TagGuid(ManagedInstance box, string tag) =>
        box.Tags.TryGetValue(tag, out var value) && Guid.TryParse(value, out var id) ? id : null;
}

/// <summary>The counts and combined errors of one orphan-sweeper tick.</summary>
internal sealed class OrphanSweepTally
{
    private readonly List<string> errors = [];

    public int RemovedFound { get; set; }
    public int RemovedTerminated { get; set; }
    public int RemovedCleared { get; set; }
    public int RemovedFailed { get; set; }
    public int ExternalSkipped { get; set; }
    public int PendingDue { get; set; }
    public int PendingTerminated { get; set; }
    public int PendingFailed { get; set; }
    public int PendingPostponed { get; set; }
    public int InstancesListed { get; set; }
    public int LeaksFound { get; set; }
    public int Leaked { get; set; }
    public int LeakFailed { get; set; }
    public int ProvidersSkipped { get; set; }
    public int PartsFailed { get; set; }
    public int IdempotencyKeysPurged { get; set; }

    public int Failed => RemovedFailed + PendingFailed + LeakFailed;

    public IReadOnlyList<string> Errors => errors;

    public void AddError(string error)
    {
        if (errors.Count < OrphanSweeper.ReportedErrors)
        {
            errors.Add(error);
        }
    }

    /// <summary>Adds the error of every box that is still running and returns how many there were.</summary>
    public int RecordFailures(IReadOnlyList<BoxTermination> results)
    {
        var failed = 0;
        foreach (var result in results.Where(r => !r.Terminated))
        {
            failed++;
            AddError($"{result.Box.Provider}/{result.Box.InstanceId}" +
                (result.Box.WorkspaceId is { } id ? $" (workspace {id})" : "") + $": {result.Error}");
        }

        return failed;
    }

    public SweepResult ToResult(bool budgetExhausted) => new(
    [
        new("found", RemovedFound - ExternalSkipped + PendingDue + LeaksFound),
        new("terminated", RemovedTerminated + PendingTerminated + Leaked),
        new("failed", Failed),
        new("leaked", Leaked),
        new("idempotency_keys_purged", IdempotencyKeysPurged),
        new("removed_found", RemovedFound),
        new("removed_terminated", RemovedTerminated),
        new("removed_cleared", RemovedCleared),
        new("removed_failed", RemovedFailed),
        new("external_skipped", ExternalSkipped),
        new("pending_due", PendingDue),
        new("pending_terminated", PendingTerminated),
        new("pending_failed", PendingFailed),
        new("pending_postponed", PendingPostponed),
        new("instances_listed", InstancesListed),
        new("leaks_found", LeaksFound),
        new("leak_failed", LeakFailed),
        new("providers_skipped", ProvidersSkipped),
        new("parts_failed", PartsFailed),
    ], errors.ToList(), budgetExhausted);
}
