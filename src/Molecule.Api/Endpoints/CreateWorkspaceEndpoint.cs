using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Molecule.Api.Http;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;

namespace Molecule.Api.Endpoints;

/// <summary><c>POST /workspaces</c>: validate, insert the row already claimed by its create operation, dispatch, answer 201.</summary>
public static class CreateWorkspaceEndpoint
{
    private const int MaxIdempotencyKeyLength = 255;

    public static async Task<IResult> HandleAsync(HttpContext http, WorkspaceCreator creator, ProviderRegistry providers)
    {
        if (WorkspaceAccess.RequireAdmin(http) is { } forbidden)
        {
            return forbidden;
        }

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
        var result = await creator.CreateAsync(request!, idempotency, http.RequestAborted);
        return result.Outcome switch
        {
            CreateOutcome.Created or CreateOutcome.Replayed => Created(result.Created!),
            CreateOutcome.ParentNotFound => Problems.Of(404, "PARENT_NOT_FOUND", "The parent workspace does not exist."),
            CreateOutcome.NameTaken => Problems.Of(409, "NAME_TAKEN", "A live sibling already has this name."),
            CreateOutcome.IdempotencyKeyReused => Problems.Of(422, "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was used with a different body."),
            _ => throw new InvalidOperationException($"unexpected create outcome {result.Outcome}"),
        };
    }

    private static IResult Created(CreatedWorkspace created)
    {
        var body = new JsonObject
        {
            ["id"] = created.WorkspaceId,
            ["status"] = created.OperationId is null ? WorkspaceStatus.Offline : WorkspaceStatus.Provisioning,
            ["auth_token"] = created.AuthToken,
            ["operation"] = created.OperationId is { } op ? new JsonObject { ["id"] = op, ["kind"] = OperationKind.Create } : null,
        };
        return new CreatedResult($"/workspaces/{created.WorkspaceId}", body);
    }

    internal static (NewWorkspace? Request, IResult? Problem) Parse(JsonObject body, ProviderRegistry providers)
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

        x ??= canvasX;
        y ??= canvasY;

        if (runtime is not null && !IsSlug(runtime))
        {
            return (null, Problems.Validation("runtime must be lower-case letters, digits, '-' or '_'"));
        }

        var (compute, computeProblem) = ComputeFields.Parse(computeBody, providers, providers.DefaultProvider);
        if (computeProblem is not null)
        {
            return (null, computeProblem);
        }

        return (new NewWorkspace(name!, parentId, runtime ?? Runtimes.Default, tier ?? 1, compute!, x ?? 0, y ?? 0), null);
    }

    private static bool IsSlug(string value) => value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    private sealed class CreatedResult(string location, JsonObject body) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.Location = location;
            return new JsonNodeResult(body, StatusCodes.Status201Created).ExecuteAsync(http);
        }
    }
}
