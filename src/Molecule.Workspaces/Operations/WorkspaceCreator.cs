using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Store;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// Creates a workspace: the row is inserted already claimed by its <c>create</c> operation, with the operations
/// row, its token and its event, in one transaction — then the operation is dispatched. With an
/// <c>Idempotency-Key</c>, the key is taken first in the same transaction: a concurrent twin waits on it and then
/// replays the stored answer, so one key makes one workspace and one box however often it is sent.
/// </summary>
public sealed class WorkspaceCreator(
    NpgsqlDataSource db,
    TokenStore tokens,
    EventStore events,
    IOperationDispatcher dispatcher,
    IdempotencyTokenSealer sealer,
    OperationOptions options,
    TimeProvider time,
    ILogger<WorkspaceCreator> logger)
{
    public async Task<CreateResult> CreateAsync(NewWorkspace request, IdempotencyKey? key, CancellationToken ct)
    {
        var result = await CreateInTransactionAsync(request, key, ct);
        if (result is { Outcome: CreateOutcome.Created, Created.OperationId: { } operationId })
        {
            // after commit; a lost hand-off is repaired by the reconciler's outbox sweep
            await DispatchAsync(operationId);
        }

        return result;
    }

    /// <summary>
    /// Hands the committed operation off. A failed hand-off must not fail the request, whose change is committed: the
    /// operation stays <c>pending</c> and the reconciler's outbox repair dispatches it again.
    /// </summary>
    private async Task DispatchAsync(Guid operationId)
    {
        try
        {
            await dispatcher.DispatchAsync(operationId, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "hand-off of operation {operation_id} failed; the outbox repair will dispatch it again", operationId);
        }
    }

    private async Task<CreateResult> CreateInTransactionAsync(NewWorkspace request, IdempotencyKey? key, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var now = time.GetUtcNow();

        if (key is not null)
        {
            var replay = await TakeKeyAsync(conn, tx, key, now, ct);
            if (replay is not null)
            {
                return replay;
            }
        }

        if (request.ParentId is { } parentId && !await LockLiveParentAsync(conn, tx, parentId, ct))
        {
            return new CreateResult(CreateOutcome.ParentNotFound, null);
        }

        var id = Guid.CreateVersion7(now);
        var external = request.Runtime == Runtimes.External;
        Guid? operationId = external ? null : Guid.CreateVersion7(now);
        var inserted = await InsertRowAsync(conn, tx, id, operationId, request, external, now, ct);
        if (!inserted)
        {
            return new CreateResult(CreateOutcome.NameTaken, null);
        }

        if (operationId is { } opId)
        {
            await InsertOperationAsync(conn, tx, opId, id, request.Compute.Provider, now, ct);
        }

        var token = TokenStore.NewToken();
        await tokens.InsertAsync(conn, tx, id, token, ct);
        await events.AppendAsync(conn, tx, id, operationId, EventTypes.WorkspaceCreated, new JsonObject
        {
            ["name"] = request.Name,
            ["parent_id"] = request.ParentId?.ToString(),
            ["runtime"] = request.Runtime,
            ["provider"] = request.Compute.Provider,
        }, ct);

        var created = new CreatedWorkspace(id, operationId, token);
        if (key is not null)
        {
            await StoreAnswerAsync(conn, tx, key, created, ct);
        }

        await tx.CommitAsync(ct);
        logger.LogInformation("created workspace {workspace_id} with operation {operation_id}", id, operationId);
        return new CreateResult(CreateOutcome.Created, created);
    }

    /// <summary>
    /// Inserts the key or, when a twin holds it, waits for the twin's commit and replays its answer. A twin that
    /// rolled back frees the key, and this request then takes it.
    /// </summary>
    private async Task<CreateResult?> TakeKeyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IdempotencyKey key, DateTimeOffset now, CancellationToken ct)
    {
        const string insert = """
            INSERT INTO idempotency_keys (key, request_sha256, created_at)
            VALUES ($1, $2, $3)
            ON CONFLICT (key) DO NOTHING
            """;
        await using (var cmd = Command(conn, tx, insert, Text(key.Key), P(key.RequestSha256), Time(now)))
        {
            if (await cmd.ExecuteNonQueryAsync(ct) == 1)
            {
                return null;
            }
        }

        const string select = "SELECT request_sha256, response::text FROM idempotency_keys WHERE key = $1";
        await using var read = Command(conn, tx, select, Text(key.Key));
        await using var reader = await read.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            throw new InvalidOperationException("idempotency key vanished while being read");
        }

        var hash = reader.GetFieldValue<byte[]>(0);
        if (!hash.AsSpan().SequenceEqual(key.RequestSha256))
        {
            return new CreateResult(CreateOutcome.IdempotencyKeyReused, null);
        }

        var stored = JsonSerializer.Deserialize(reader.GetString(1), CreatorJson.Default.StoredCreateAnswer)
            ?? throw new InvalidDataException("idempotency answer is empty");
        // AuthToken: an answer stored in clear before tokens were sealed (gone within a day, with its record)
        var token = stored.SealedToken is { } sealedToken ? sealer.Open(sealedToken, key.Key, stored.WorkspaceId) : stored.AuthToken;
        if (token is null)
        {
            throw new InvalidOperationException(
                $"the stored answer of Idempotency-Key record for workspace {stored.WorkspaceId} does not open with any configured Molecule:Idempotency key");
        }

        return new CreateResult(CreateOutcome.Replayed, new CreatedWorkspace(stored.WorkspaceId, stored.OperationId, token));
    }

    private async Task StoreAnswerAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IdempotencyKey key, CreatedWorkspace created, CancellationToken ct)
    {
        // the token only sealed: the database holds no workspace token in clear, not even for a day
        var stored = new StoredCreateAnswer(created.WorkspaceId, created.OperationId, sealer.Seal(created.AuthToken, key.Key, created.WorkspaceId), null);
        const string sql = "UPDATE idempotency_keys SET status_code = 201, response = $2 WHERE key = $1";
        await using var cmd = Command(conn, tx, sql, Text(key.Key), Jsonb(JsonSerializer.Serialize(stored, CreatorJson.Default.StoredCreateAnswer)));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Holds the parent's row lock until commit, so a concurrent delete of the parent either runs first (and we see
    /// it removed) or waits for this child and then removes it too.
    /// </summary>
    private static async Task<bool> LockLiveParentAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid parentId, CancellationToken ct)
    {
        const string sql = "SELECT status FROM workspaces WHERE id = $1 FOR SHARE";
        await using var cmd = Command(conn, tx, sql, Uuid(parentId));
        return await cmd.ExecuteScalarAsync(ct) is string status && status != WorkspaceStatus.Removed;
    }

    private async Task<bool> InsertRowAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, Guid? operationId,
        NewWorkspace request, bool external, DateTimeOffset now, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO workspaces (id, name, parent_id, status, runtime, tier, x, y, collapsed, compute,
                                    claim_id, claim_kind, claim_expires_at, prior_status, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, $9, $10, $11, $12, NULL, $13, $13)
            ON CONFLICT ((coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid)), name)
                WHERE status <> 'removed' DO NOTHING
            """;
        await using var cmd = Command(conn, tx, sql,
            Uuid(id),
            Text(request.Name),
            Uuid(request.ParentId),
            // an external agent runs elsewhere: no box, no operation; offline until that agent reports in
            Text(external ? WorkspaceStatus.Offline : WorkspaceStatus.Provisioning),
            Text(request.Runtime),
            P(request.Tier),
            P(request.X),
            P(request.Y),
            Json(request.Compute),
            Uuid(operationId),
            Text(external ? null : OperationKind.Create),
            Time(external ? null : now + options.ClaimTtl),
            Time(now));
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    private static async Task InsertOperationAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid operationId, Guid workspaceId,
        string provider, DateTimeOffset now, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO operations (id, workspace_id, kind, state, input, created_at, updated_at)
            VALUES ($1, $2, 'create', 'pending', $3, $4, $4)
            """;
        var input = new OperationInput { FromProvider = provider, ToProvider = provider, RequestedBy = "api" };
        await using var cmd = Command(conn, tx, sql, Uuid(operationId), Uuid(workspaceId), Json(input), Time(now));
        await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>A validated create request.</summary>
public sealed record NewWorkspace(string Name, Guid? ParentId, string Runtime, int Tier, Compute Compute, double X, double Y);

/// <summary>An <c>Idempotency-Key</c> with the SHA-256 of the request body it came with.</summary>
public sealed record IdempotencyKey(string Key, byte[] RequestSha256);

/// <summary>The answer of a create; a retry with its idempotency key replays it verbatim.</summary>
public sealed record CreatedWorkspace(Guid WorkspaceId, Guid? OperationId, string AuthToken);

/// <summary>A create's answer as stored under its idempotency key: the token sealed (<see cref="IdempotencyTokenSealer"/>).</summary>
internal sealed record StoredCreateAnswer(Guid WorkspaceId, Guid? OperationId, string? SealedToken, string? AuthToken);

public enum CreateOutcome
{
    Created,
    Replayed,
    ParentNotFound,
    NameTaken,
    IdempotencyKeyReused,
}

public sealed record CreateResult(CreateOutcome Outcome, CreatedWorkspace? Created);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(StoredCreateAnswer))]
internal sealed partial class CreatorJson : System.Text.Json.Serialization.JsonSerializerContext;
