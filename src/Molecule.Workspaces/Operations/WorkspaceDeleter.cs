using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// The cascade delete of DESIGN §6. Marks the workspace and every descendant <c>removed</c> in one transaction (claims
/// cleared, so delete beats any running operation; tokens revoked), then terminates every box the subtree's removed
/// rows still name — not only those removed now, so a retried delete re-drives descendants too. Termination is
/// batched per provider and retried (3 attempts, 1 s then 2 s), detached from the request, and the whole delete ends
/// within <see cref="DeleteOptions.Budget"/> (below API Gateway's 30 s); what still cannot be terminated stays on its
/// removed row for the orphan sweeper, with a durable event. Never a silent leak.
/// </summary>
public sealed class WorkspaceDeleter(
    NpgsqlDataSource db,
    WorkspaceStore workspaces,
    EventStore events,
    BatchTerminator terminator,
    TimeProvider time,
    DeleteOptions options,
    ILogger<WorkspaceDeleter> logger)
{
    /// <summary>At most this many live descendants are listed in a CONFIRMATION_REQUIRED answer.</summary>
    public const int ListedChildren = 100;

    /// <summary>At most this many boxes are terminated by one request; the rest are the orphan sweeper's.</summary>
    public const int MaxBoxesPerRequest = 10_000;

    public static readonly RetrySchedule TerminateRetry = new(TimeSpan.FromSeconds(1), 3, TimeSpan.FromSeconds(2));

    /// <summary>A delete by a caller that may remove the whole subtree (an admin).</summary>
    public Task<DeleteResult> DeleteAsync(Guid id, bool confirmed, string? confirmName, CancellationToken ct) =>
        DeleteAsync(id, confirmed, confirmName, mayCascade: true, ct);

    /// <param name="mayCascade">
    /// Whether the caller may remove other workspaces than <paramref name="id"/> (an admin token may; a workspace token
    /// acts on its own workspace only). A delete that would remove a descendant the caller may not touch changes nothing.
    /// </param>
    public async Task<DeleteResult> DeleteAsync(Guid id, bool confirmed, string? confirmName, bool mayCascade, CancellationToken ct)
    {
        // the budget runs from the start of the request, so the answer (not only the cleanup) comes within it
        using var budget = new CancellationTokenSource(options.Budget, time);
        using var scope = LogScopes.ForWorkspace(logger, id);
        var root = await workspaces.GetAsync(id, ct);
        if (root is null)
        {
            return DeleteResult.Of(DeleteOutcome.NotFound);
        }

        if (confirmName is not null && confirmName != root.Name)
        {
            return DeleteResult.Of(DeleteOutcome.NameMismatch);
        }

        var alreadyRemoved = root.Status == WorkspaceStatus.Removed;
        IReadOnlyList<Guid> removed = [];
        if (!alreadyRemoved)
        {
            var children = await workspaces.LiveDescendantsAsync(id, MaxBoxesPerRequest, ct);
            if (children.Count > 0 && (!mayCascade || !confirmed))
            {
                return Refused(children, mayCascade);
            }

            var removal = await MarkSubtreeRemovedAsync(id, allowDescendants: mayCascade && confirmed, ct);
            if (removal.RefusedChildren is { } appeared)
            {
                // a child was created between the check above and the locked transaction: refused whole, as above
                return Refused(appeared, mayCascade);
            }

            // a concurrent delete of the same workspace won: this one is a retry of it, answered as one (410 or 503)
            alreadyRemoved = !removal.Removed.Contains(id);
            removed = removal.Removed;
        }

        // from here the request's own cancellation no longer matters: the rows are removed, the boxes must die, and
        // only the budget stops the retries (what is left is the orphan sweeper's)
        var pending = await TerminateSubtreeBoxesAsync(id, budget.Token);
        if (pending.Count > 0)
        {
            await RecordExhaustedAsync(pending);
            return DeleteResult.Of(DeleteOutcome.TerminatePending) with { RemovedCount = removed.Count, Pending = pending };
        }

        if (alreadyRemoved)
        {
            var removedAt = root.RemovedAt ?? (await workspaces.GetAsync(id, CancellationToken.None))?.RemovedAt;
            return DeleteResult.Of(DeleteOutcome.AlreadyRemoved) with { RemovedAt = removedAt };
        }

        return DeleteResult.Of(DeleteOutcome.Removed) with { RemovedCount = removed.Count };
    }

    private static DeleteResult Refused(IReadOnlyList<ChildRef> children, bool mayCascade) => mayCascade
        ? DeleteResult.Of(DeleteOutcome.ConfirmationRequired) with { Children = children.Take(ListedChildren).ToList(), ChildrenCount = children.Count }
        // a workspace token learns nothing about the other workspaces below it, not even their names
        : DeleteResult.Of(DeleteOutcome.CascadeForbidden) with { ChildrenCount = children.Count };

    /// <summary>
    /// One transaction: lock the live subtree, then mark it removed, repeating until a pass finds nothing new. A child
    /// created concurrently holds its parent's row lock until it commits (see WorkspaceCreator), so it either sees the
    /// parent removed and fails, or commits first and is caught by the next pass — no child outlives its parent. When
    /// descendants are not allowed and a pass removed one anyway (it appeared after the caller's check), the whole
    /// transaction is rolled back and nothing changes.
    /// </summary>
    private async Task<SubtreeRemoval> MarkSubtreeRemovedAsync(Guid id, bool allowDescendants, CancellationToken ct)
    {
        const string lockSubtree = $"""
            WITH RECURSIVE subtree AS ({SubtreeCte.Body})
            SELECT w.id FROM workspaces w JOIN subtree USING (id) WHERE w.status <> 'removed' FOR UPDATE OF w
            """;
        const string markRemoved = $"""
            WITH RECURSIVE subtree AS ({SubtreeCte.Body})
            UPDATE workspaces w
               SET status = 'removed', removed_at = $2, updated_at = $2, version = w.version + 1,
                   -- delete beats any running operation: its next step finds the claim gone and aborts
                   claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL, prior_status = NULL
              FROM subtree
             WHERE w.id = subtree.id AND w.status <> 'removed'
            RETURNING w.id
            """;
        const string revokeTokens = "UPDATE workspace_tokens SET revoked_at = $2 WHERE workspace_id = ANY($1) AND revoked_at IS NULL";
        const string removedEvents = """
            INSERT INTO structure_events (workspace_id, event_type, payload, created_at)
            SELECT removed.id, 'workspace.removed', jsonb_build_object('root_id', $2::uuid), $3
              FROM unnest($1::uuid[]) AS removed(id)
            """;

        var now = time.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = Command(conn, tx, lockSubtree, Uuid(id)))
        {
            await cmd.ExecuteNonQueryAsync(ct);
        }

        var removed = new List<Guid>();
        while (true)
        {
            await using var cmd = Command(conn, tx, markRemoved, Uuid(id), Time(now));
            var pass = new List<Guid>();
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    pass.Add(reader.GetGuid(0));
                }
            }

            if (pass.Count == 0)
            {
                break;
            }

            removed.AddRange(pass);
        }

        if (!allowDescendants && removed.Any(r => r != id))
        {
            await tx.RollbackAsync(ct);
            return new SubtreeRemoval([], await workspaces.LiveDescendantsAsync(id, MaxBoxesPerRequest, ct));
        }

        await using (var cmd = Command(conn, tx, revokeTokens, UuidArray(removed), Time(now)))
        {
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await using (var cmd = Command(conn, tx, removedEvents, UuidArray(removed), Uuid(id), Time(now)))
        {
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        if (removed.Count > 0)
        {
            logger.LogInformation("removed workspace {workspace_id} and {count} descendants", id, removed.Count - 1);
        }

        return new SubtreeRemoval(removed, null);
    }

    /// <summary>What the removal transaction did: the rows it removed, or the live descendants that made it refuse.</summary>
    private sealed record SubtreeRemoval(IReadOnlyList<Guid> Removed, IReadOnlyList<ChildRef>? RefusedChildren);

    /// <summary>Terminates the boxes of every removed row in the subtree; returns those still running after the retries.</summary>
    private async Task<IReadOnlyList<PendingBox>> TerminateSubtreeBoxesAsync(Guid id, CancellationToken ct)
    {
        // not under the budget: even a spent budget must still name the boxes it leaves to the sweeper
        var boxes = await ListRemovedBoxesAsync(id, CancellationToken.None);
        var lastErrors = new Dictionary<BoxRef, string>();
        var attempts = 0;
        while (boxes.Count > 0)
        {
            attempts++;
            IReadOnlyList<BoxTermination> results;
            try
            {
                results = await terminator.TerminateAsync(boxes, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }

            var terminated = results.Where(r => r.Terminated).Select(r => r.Box).ToList();
            await workspaces.ClearTerminatedBoxesAsync(terminated, CancellationToken.None);
            foreach (var failed in results.Where(r => !r.Terminated))
            {
                lastErrors[failed.Box] = failed.Error!;
            }

            boxes = results.Where(r => !r.Terminated).Select(r => r.Box).ToList();
            if (boxes.Count == 0 || TerminateRetry.IsExhausted(attempts))
            {
                break;
            }

            try
            {
                await Task.Delay(TerminateRetry.DelayAfter(attempts), time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
        }

        return boxes.Select(b => new PendingBox(b, attempts, lastErrors.GetValueOrDefault(b) ?? "delete budget ran out")).ToList();
    }

    private async Task<IReadOnlyList<BoxRef>> ListRemovedBoxesAsync(Guid id, CancellationToken ct)
    {
        const string sql = $"""
            WITH RECURSIVE subtree AS ({SubtreeCte.Body})
            SELECT w.id, w.instance_provider, w.instance_id
              FROM workspaces w JOIN subtree USING (id)
             WHERE w.status = 'removed' AND w.instance_id IS NOT NULL
             LIMIT $2
            """;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var cmd = Command(conn, null, sql, Uuid(id), P(MaxBoxesPerRequest));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var boxes = new List<BoxRef>();
        while (await reader.ReadAsync(ct))
        {
            boxes.Add(new BoxRef(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
        }

        return boxes;
    }

    /// <summary>One durable event per workspace left with a box; on a fresh context, whatever happened to the request.</summary>
    private async Task RecordExhaustedAsync(IReadOnlyList<PendingBox> pending)
    {
        foreach (var p in pending)
        {
            await events.AppendAsync(p.Box.WorkspaceId, null, EventTypes.DeleteTerminateRetryExhausted, new JsonObject
            {
                ["workspace_id"] = p.Box.WorkspaceId,
                ["instance_id"] = p.Box.InstanceId,
                ["provider"] = p.Box.Provider,
                ["attempts"] = p.Attempts,
                ["last_error"] = p.LastError,
                ["recovery_path"] = "orphan_sweeper",
            }, CancellationToken.None);
            logger.LogWarning("terminate of {instance_id} ({provider}) for removed workspace {workspace_id} exhausted; left to the orphan sweeper",
                p.Box.InstanceId, p.Box.Provider, p.Box.WorkspaceId);
        }
    }
}

/// <summary>The workspace <c>$1</c> and every row below it, whatever their status.</summary>
internal static class SubtreeCte
{
    public const string Body = """
        SELECT id FROM workspaces WHERE id = $1
        UNION
        SELECT w.id FROM workspaces w JOIN subtree s ON w.parent_id = s.id
        """;
}

public enum DeleteOutcome
{
    Removed,
    AlreadyRemoved,
    TerminatePending,
    NotFound,
    NameMismatch,
    ConfirmationRequired,
    CascadeForbidden,
}

public sealed record PendingBox(BoxRef Box, int Attempts, string LastError);

public sealed record DeleteResult(DeleteOutcome Outcome)
{
    public int RemovedCount { get; init; }
    public IReadOnlyList<ChildRef> Children { get; init; } = [];
    public int ChildrenCount { get; init; }
    public IReadOnlyList<PendingBox> Pending { get; init; } = [];
    public DateTimeOffset? RemovedAt { get; init; }

    public static DeleteResult Of(DeleteOutcome outcome) => new(outcome);
}
