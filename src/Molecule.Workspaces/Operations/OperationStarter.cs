using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Store;
using Npgsql;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// Starts an operation on an existing workspace: claim the row (one statement that also inserts the operation),
/// then dispatch. When the claim is not won, the request owned nothing and changed nothing; the reason is then read,
/// read-only, so the caller can answer 404 / 409 / 410 precisely.
/// </summary>
public sealed class OperationStarter(
    ClaimStore claims,
    WorkspaceStore workspaces,
    OperationStore operations,
    IOperationDispatcher dispatcher,
    OperationOptions options,
    TimeProvider time,
    ILogger<OperationStarter> logger)
{
    public async Task<StartResult> StartAsync(StartRequest request, CancellationToken ct)
    {
        var operationId = Guid.CreateVersion7(time.GetUtcNow());
        var claim = new ClaimRequest(
            request.WorkspaceId,
            operationId,
            request.Kind,
            options.ClaimTtl,
            request.RequestedBy,
            CheckExpectedProvider: request.ExpectedProvider is not null,
            ExpectedProvider: request.ExpectedProvider,
            TargetProvider: request.TargetProvider,
            ExpectedVersion: request.ExpectedVersion,
            Patch: request.Patch);
        Workspace? claimed;
        try
        {
            claimed = await claims.TryClaimAsync(claim, ct);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && request.Patch?.Name is not null)
        {
            // the PATCH's new name is a live sibling's: the statement failed whole, so the switch did not start either
            return new StartResult(StartOutcome.NameTaken, null, null);
        }

        if (claimed is not null)
        {
            // the claim is committed: from here nothing may depend on the request staying alive
            await DispatchAsync(operationId);
            logger.LogInformation("started {kind} operation {operation_id} on workspace {workspace_id}", request.Kind, operationId, request.WorkspaceId);
            return new StartResult(StartOutcome.Started, operationId, claimed);
        }

        return await DiagnoseAsync(request, ct);
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

    private async Task<StartResult> DiagnoseAsync(StartRequest request, CancellationToken ct)
    {
        var row = await workspaces.GetAsync(request.WorkspaceId, ct);
        if (row is null)
        {
            return new StartResult(StartOutcome.NotFound, null, null);
        }

        if (row.Status == WorkspaceStatus.Removed)
        {
            return new StartResult(StartOutcome.Removed, null, row);
        }

        if (row.IsExternal)
        {
            return new StartResult(StartOutcome.ExternalRuntime, null, row);
        }

        if (row.ClaimId is { } holder)
        {
            return new StartResult(StartOutcome.Busy, holder, row);
        }

        if (request.ExpectedVersion is { } version && row.Version != version)
        {
            return new StartResult(StartOutcome.VersionMismatch, null, row);
        }

        if (request.ExpectedProvider is not null && row.Compute.Provider != request.ExpectedProvider)
        {
            // another switch committed between this request's read and its claim
            return new StartResult(StartOutcome.ProviderChanged, null, row);
        }

        if (!OperationKind.ClaimableStatuses(request.Kind).Contains(row.Status))
        {
            return new StartResult(StartOutcome.InvalidState, null, row);
        }

        if (OperationKind.RequiresUnpausedAncestors(request.Kind) && await workspaces.HasPausedAncestorAsync(row.Id, ct))
        {
            return new StartResult(StartOutcome.ParentPaused, null, row);
        }

        // the row changed between the claim and this read (a claim came and went): report it as busy
        var current = await operations.GetClaimHolderAsync(row.Id, ct);
        return new StartResult(StartOutcome.Busy, current?.Id, row);
    }
}

/// <summary>What a request asks to start.</summary>
/// <param name="ExpectedProvider">switch-provider: the provider the request saw; the claim fails if it changed.</param>
/// <param name="Patch">the other fields of a PATCH that starts a switch: written by the claim statement itself.</param>
public sealed record StartRequest(
    Guid WorkspaceId,
    string Kind,
    string RequestedBy,
    string? ExpectedProvider = null,
    string? TargetProvider = null,
    int? ExpectedVersion = null,
    WorkspacePatch? Patch = null);

public enum StartOutcome
{
    Started,
    NotFound,
    Removed,
    ExternalRuntime,
    Busy,
    VersionMismatch,
    ProviderChanged,
    InvalidState,
    ParentPaused,
    NameTaken,
}

/// <summary>
/// <paramref name="OperationId"/> is the new operation when started, the claim holder's when busy.
/// <paramref name="Workspace"/> is the claimed row when started, else the row as read for the diagnosis.
/// </summary>
public sealed record StartResult(StartOutcome Outcome, Guid? OperationId, Workspace? Workspace);
