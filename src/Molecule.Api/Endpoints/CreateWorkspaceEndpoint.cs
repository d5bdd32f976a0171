using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;

namespace Molecule.Api.Endpoints;

/// <summary><c>POST /workspaces</c> (admin): validate, insert the row already claimed by its create operation, dispatch, answer 201.</summary>
public static class CreateWorkspaceEndpoint
{
    private const int MaxIdempotencyKeyLength = 255;

    public static readonly ProblemCode[] Codes =
    [
        .. ProblemCodes.Body, ProblemCodes.BadProvider, ProblemCodes.ParentNotFound, ProblemCodes.NameTaken, ProblemCodes.IdempotencyKeyReused,
    ];

    public static async Task<Results<Created<CreatedWorkspaceAnswer>, ProblemResult>> HandleAsync(HttpContext http, WorkspaceCreator creator,
        ProviderRegistry providers)
    {
        var key = http.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length > MaxIdempotencyKeyLength || !Fields.IsStorable(key))
        {
            return Problems.Validation($"Idempotency-Key must be at most {MaxIdempotencyKeyLength} characters");
        }

        var (body, raw, problem) = await JsonBody.ReadObjectAsync(http.Request, required: true, http.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        var (request, invalid) = Parse(body!, providers);
        if (invalid is not null)
        {
            return invalid;
        }

        var idempotency = key.Length == 0 ? null : new IdempotencyKey(key, SHA256.HashData(raw));
        var result = await creator.CreateAsync(ToNewWorkspace(request!, providers.DefaultProvider), idempotency, http.RequestAborted);
        return result.Outcome switch
        {
            CreateOutcome.Created or CreateOutcome.Replayed => Created(result.Created!),
            CreateOutcome.ParentNotFound => Problems.Of(ProblemCodes.ParentNotFound, "The parent workspace does not exist."),
            CreateOutcome.NameTaken => Problems.NameTaken(),
            CreateOutcome.IdempotencyKeyReused => Problems.Of(ProblemCodes.IdempotencyKeyReused, "This Idempotency-Key was used with a different body."),
            _ => throw new InvalidOperationException($"unexpected create outcome {result.Outcome}"),
        };
    }

    private static Created<CreatedWorkspaceAnswer> Created(CreatedWorkspace created) => TypedResults.Created(
        $"/workspaces/{created.WorkspaceId}",
        new CreatedWorkspaceAnswer(
            created.WorkspaceId,
            created.OperationId is null ? WorkspaceStatus.Offline : WorkspaceStatus.Provisioning,
            created.AuthToken,
            created.OperationId is { } op ? new OperationRef(op, OperationKind.Create) : null));

    /// <summary>The body, checked field by field (types, then meaning), into the request it describes.</summary>
    internal static (CreateWorkspaceRequest? Request, ProblemResult? Problem) Parse(JsonObject body, ProviderRegistry providers)
    {
        if (!body.ContainsKey("name") || body["name"] is null)
        {
            return (null, Problems.Validation("name is required"));
        }

        if (!Fields.TryString(body, "name", 1, 200, out var name, out var error)
            || !Fields.TryUuid(body, "parent_id", out var parentId, out error)
            || !Fields.TryString(body, "runtime", 1, 64, out var runtime, out error)
            || !Fields.TryInt(body, "tier", 0, 100, out var tier, out error)
            || !Fields.TryDouble(body, "x", out var x, out error)
            || !Fields.TryDouble(body, "y", out var y, out error)
            || !Fields.TryObject(body, "canvas", out var canvas, out error)
            || !Fields.TryObject(body, "compute", out var computeBody, out error))
        {
            return (null, Problems.Validation(error!));
        }

        if (Names.Invalid(name!) is { } nameProblem)
        {
            return (null, Problems.Validation(nameProblem));
        }

        double? canvasX = null, canvasY = null;
        if (canvas is not null && (!Fields.TryDouble(canvas, "x", out canvasX, out error) || !Fields.TryDouble(canvas, "y", out canvasY, out error)))
        {
            return (null, Problems.Validation("canvas." + error));
        }

        if (runtime is not null && !IsSlug(runtime))
        {
            return (null, Problems.Validation("runtime must be lower-case letters, digits, '-' or '_'"));
        }

        var (compute, computeProblem) = ComputeFields.Parse(computeBody, providers);
        if (computeProblem is not null)
        {
            return (null, computeProblem);
        }

        return (new CreateWorkspaceRequest
        {
            Name = name!,
            ParentId = parentId,
            Runtime = runtime,
            Tier = tier,
            X = x,
            Y = y,
            Canvas = canvas is null ? null : new CanvasPosition { X = canvasX, Y = canvasY },
            Compute = compute,
        }, null);
    }

    /// <summary>The workspace a validated request asks for: <c>canvas</c> stands in for <c>x</c>/<c>y</c> not given, defaults filled in.</summary>
    internal static NewWorkspace ToNewWorkspace(CreateWorkspaceRequest request, string defaultProvider) => new(
        request.Name,
        request.ParentId,
        request.Runtime ?? Runtimes.Default,
        request.Tier ?? 1,
        ComputeFields.ToCompute(request.Compute, defaultProvider),
        request.X ?? request.Canvas?.X ?? 0,
        request.Y ?? request.Canvas?.Y ?? 0);

    private static bool IsSlug(string value) => value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');
}
