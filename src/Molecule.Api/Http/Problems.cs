using System.Text.Json.Nodes;

namespace Molecule.Api.Http;

/// <summary>
/// <c>application/problem+json</c> answers with the stable code in <c>error</c> (what the canvas reads), plus
/// <c>title</c>, <c>status</c> and <c>detail</c>. Codes are part of the API: never rename one.
/// </summary>
public static class Problems
{
    public static IResult Of(int status, string error, string title, string? detail = null, JsonObject? extra = null)
    {
        var body = new JsonObject
        {
            ["type"] = "about:blank",
            ["error"] = error,
            ["title"] = title,
            ["status"] = status,
        };
        if (detail is not null)
        {
            body["detail"] = detail;
        }

        foreach (var (key, value) in extra ?? [])
        {
            body[key] = value?.DeepClone();
        }

        return new JsonNodeResult(body, status, "application/problem+json");
    }

    public static IResult Validation(string detail) => Of(400, "VALIDATION", "The request is not valid.", detail);

    public static IResult BadProvider(string detail) => Of(400, "BAD_PROVIDER", "The provider is not configured.", detail);

    public static IResult Unauthorized() => Of(401, "UNAUTHORIZED", "A valid bearer token is required.");

    public static IResult Forbidden(string? detail = null) => Of(403, "FORBIDDEN", "This token may not use this resource.", detail);

    public static IResult NotFound(string what = "workspace") => Of(404, "NOT_FOUND", $"The {what} does not exist.");

    public static IResult Removed(Guid id, DateTimeOffset? removedAt) => Of(410, "workspace removed", "The workspace was removed.", null,
        new JsonObject { ["id"] = id, ["removed_at"] = removedAt });

    public static IResult PayloadTooLarge(int limit) => Of(413, "PAYLOAD_TOO_LARGE", "The request body is too large.", $"at most {limit} bytes");
}

/// <summary>Writes a <see cref="JsonNode"/> as the body; no reflection, so it stays AOT-safe.</summary>
public sealed class JsonNodeResult(JsonNode body, int status, string contentType = "application/json") : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => status;

    public async Task ExecuteAsync(HttpContext http)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        await http.Response.WriteAsync(body.ToJsonString(ApiJson.NodeOptions), http.RequestAborted);
    }
}
