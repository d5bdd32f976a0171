using Molecule.Api.Contract;

namespace Molecule.Api.Http;

/// <summary>
/// The problem answers (<see cref="ProblemResult"/>), each built from its code in <see cref="ProblemCodes"/>: the stable
/// code in <c>error</c> (what the canvas reads), plus <c>title</c>, <c>status</c> and <c>detail</c>.
/// </summary>
public static class Problems
{
    public static ProblemResult Of(ProblemCode code, string title, string? detail = null) => Of(code.Status, code.Error, title, detail);

    /// <summary>A problem of a status only known at run time (a framework rejection, an unmatched route's status).</summary>
    public static ProblemResult Of(int status, string error, string title, string? detail = null) =>
        new(status, new Problem { Error = error, Title = title, Status = status, Detail = detail });

    public static ProblemResult Validation(string detail) => Of(ProblemCodes.Validation, "The request is not valid.", detail);

    public static ProblemResult BadProvider(string detail) => Of(ProblemCodes.BadProvider, "The provider is not configured.", detail);

    public static ProblemResult Unauthorized() => Of(ProblemCodes.Unauthorized, "A valid bearer token is required.");

    public static ProblemResult Forbidden(string? detail = null) => Of(ProblemCodes.Forbidden, "This token may not use this resource.", detail);

    public static ProblemResult NotFound(string what = "workspace") => Of(ProblemCodes.NotFound, $"The {what} does not exist.");

    public static ProblemResult NameTaken() => Of(ProblemCodes.NameTaken, "A live sibling already has this name.");

    public static ProblemResult PayloadTooLarge(int limit) => Of(ProblemCodes.PayloadTooLarge, "The request body is too large.", $"at most {limit} bytes");

    public static ProblemResult Removed(Guid id, DateTimeOffset? removedAt) => new(ProblemCodes.Removed.Status, new RemovedProblem
    {
        Error = ProblemCodes.Removed.Error,
        Title = "The workspace was removed.",
        Status = ProblemCodes.Removed.Status,
        Id = id,
        RemovedAt = removedAt,
    });

    public static ProblemResult VersionMismatch(int? currentVersion) => new(ProblemCodes.VersionMismatch.Status, new VersionMismatchProblem
    {
        Error = ProblemCodes.VersionMismatch.Error,
        Title = "The workspace changed since that version was read.",
        Status = ProblemCodes.VersionMismatch.Status,
        CurrentVersion = currentVersion,
    });
}
