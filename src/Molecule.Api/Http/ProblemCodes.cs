using Molecule.Api.Contract;

namespace Molecule.Api.Http;

/// <summary>One stable error code: its HTTP status, the document it answers with, and what it means (for the OpenAPI document).</summary>
public sealed record ProblemCode(int Status, string Error, Type Document, string Meaning);

/// <summary>
/// Every error code the API answers with. <see cref="Problems"/> builds the answers from these, and each route lists
/// the ones it can answer (<c>.ProducesProblems(…)</c>), which the OpenAPI document describes. Never rename a code.
/// </summary>
public static class ProblemCodes
{
    public static readonly ProblemCode Validation = new(400, "VALIDATION", typeof(Problem),
        "a body field, query value, header or path id is not valid; nothing changed");

    public static readonly ProblemCode BadRequest = new(400, "BAD_REQUEST", typeof(Problem), "the request could not be read");
    public static readonly ProblemCode BadProvider = new(400, "BAD_PROVIDER", typeof(Problem), "the provider named is not configured");
    public static readonly ProblemCode ConfirmNameMismatch = new(400, "CONFIRM_NAME_MISMATCH", typeof(Problem), "X-Confirm-Name is not the workspace's name");
    public static readonly ProblemCode Unauthorized = new(401, "UNAUTHORIZED", typeof(Problem), "no valid bearer token");
    public static readonly ProblemCode Forbidden = new(403, "FORBIDDEN", typeof(Problem),
        "a workspace token used on another workspace's resource, on an admin-only route, or on a cascade reaching other workspaces");

    public static readonly ProblemCode NotFound = new(404, "NOT_FOUND", typeof(Problem), "no such workspace, operation, instance or route");
    public static readonly ProblemCode RemovedState = new(404, "NOT_FOUND", typeof(RemovedStateProblem), "the workspace was removed (deleted: true)");
    public static readonly ProblemCode ParentNotFound = new(404, "PARENT_NOT_FOUND", typeof(Problem), "parent_id names no live workspace");
    public static readonly ProblemCode MethodNotAllowed = new(405, "METHOD_NOT_ALLOWED", typeof(Problem), "the route does not take that method");
    public static readonly ProblemCode ConfirmationRequired = new(409, "CONFIRMATION_REQUIRED", typeof(ConfirmationRequiredProblem),
        "the workspace has live descendants: send ?confirm=true to delete them too");

    public static readonly ProblemCode NameTaken = new(409, "NAME_TAKEN", typeof(Problem), "a live sibling already has this name");
    public static readonly ProblemCode AlreadySwitching = new(409, "ALREADY_SWITCHING", typeof(BusyProblem), "another operation holds the workspace");
    public static readonly ProblemCode ProviderChanged = new(409, "ALREADY_SWITCHING", typeof(ProviderChangedProblem),
        "the workspace's provider changed since it was read");

    public static readonly ProblemCode ParentPaused = new(409, "PARENT_PAUSED", typeof(Problem), "an ancestor is paused");
    public static readonly ProblemCode InvalidState = new(409, "INVALID_STATE", typeof(InvalidStateProblem), "the workspace's status does not allow it");
    public static readonly ProblemCode ExternalRuntime = new(409, "EXTERNAL_RUNTIME", typeof(Problem), "an external workspace has no box to operate on");
    public static readonly ProblemCode DataLossUnconfirmed = new(409, "DATA_LOSS_UNCONFIRMED", typeof(Problem),
        "data_persistence is persist: send confirm_data_loss: true");

    public static readonly ProblemCode Descendants = new(409, "DESCENDANTS", typeof(DescendantsProblem),
        "the workspace has live descendants: send ?cascade=true");

    public static readonly ProblemCode TooManyDescendants = new(409, "DESCENDANTS", typeof(Problem), "more than 1000 live descendants: act on the subtree in parts");
    public static readonly ProblemCode SweepRunning = new(409, "SWEEP_RUNNING", typeof(SweepRunningProblem), "a tick of this sweep is already running");
    public static readonly ProblemCode Removed = new(410, "workspace removed", typeof(RemovedProblem), "the workspace was removed");
    public static readonly ProblemCode VersionMismatch = new(412, "VERSION_MISMATCH", typeof(VersionMismatchProblem), "If-Match names an older version");
    public static readonly ProblemCode PayloadTooLarge = new(413, "PAYLOAD_TOO_LARGE", typeof(Problem), "the body is over 64 KiB");
    public static readonly ProblemCode UnsupportedMediaType = new(415, "UNSUPPORTED_MEDIA_TYPE", typeof(Problem),
        "the body is not declared application/json (UTF-8)");

    public static readonly ProblemCode IdempotencyKeyReused = new(422, "IDEMPOTENCY_KEY_REUSED", typeof(Problem),
        "this Idempotency-Key was used with a different body");

    public static readonly ProblemCode ClientClosed = new(499, "CLIENT_CLOSED", typeof(Problem), "the client went away");
    public static readonly ProblemCode Internal = new(500, "INTERNAL", typeof(Problem), "an unexpected error (details in the log only)");
    public static readonly ProblemCode StepCrashed = new(500, "STEP_CRASHED", typeof(Problem), "the step failed unexpectedly; the state machine retries it");
    public static readonly ProblemCode CfnResponseFailed = new(502, "CFN_RESPONSE_FAILED", typeof(Problem), "CloudFormation could not be answered");
    public static readonly ProblemCode TerminatePending = new(503, "TERMINATE_PENDING", typeof(TerminatePendingProblem),
        "removed, but some boxes are not terminated yet (Retry-After); the orphan sweeper finishes them");

    public static readonly ProblemCode DatabaseUnavailable = new(503, "DATABASE_UNAVAILABLE", typeof(Problem),
        "the database is not answering (Retry-After); nothing changed");

    public static readonly ProblemCode NotReady = new(503, "NOT_READY", typeof(Problem), "the database does not answer");

    /// <summary>What every route taking a JSON body may answer about the body itself.</summary>
    public static readonly ProblemCode[] Body = [Validation, PayloadTooLarge, UnsupportedMediaType];

    /// <summary>The checks every <c>/workspaces/{id}</c> route starts with (<see cref="WorkspaceAccess"/>).</summary>
    public static readonly ProblemCode[] WorkspaceAccess = [Validation, Forbidden, NotFound, Removed];
}

/// <summary>Endpoint metadata: the codes a route can answer with, for the OpenAPI document.</summary>
public sealed record ProblemCodesMetadata(IReadOnlyList<ProblemCode> Codes);

public static class ProblemCodesEndpointExtensions
{
    /// <summary>Declares codes the route (or every route of a group) can answer with; several declarations add up.</summary>
    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, params ProblemCode[] codes)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProblemCodesMetadata(codes));
}
