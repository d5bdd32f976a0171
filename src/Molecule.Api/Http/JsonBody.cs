using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Net.Http.Headers;

namespace Molecule.Api.Http;

/// <summary>
/// Reads a request body as a JSON object, bounded in size and depth. Every failure is a 4xx problem, never a 500:
/// bodies are read by hand rather than model-bound so that wrong types, unknown fields (accepted and ignored, as
/// the canvas sends many) and hostile strings each get a precise answer.
/// </summary>
public static class JsonBody
{
    public const int MaxBytes = 64 * 1024;
    private const int MaxDepth = 16;

    public static async Task<(JsonObject? Body, byte[] Raw, ProblemResult? Problem)> ReadObjectAsync(HttpRequest request, bool required, CancellationToken ct)
    {
        if (request.ContentType is { } contentType && !IsJson(contentType))
        {
            return (null, [], UnsupportedMediaType());
        }

        if (request.ContentLength > MaxBytes)
        {
            return (null, [], Problems.PayloadTooLarge(MaxBytes));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                return (null, [], Problems.PayloadTooLarge(MaxBytes));
            }

            buffer.Write(chunk, 0, read);
        }

        var raw = buffer.ToArray();
        if (raw.Length > 0 && request.ContentType is null)
        {
            // a body without a media type is not known to be JSON, whatever it looks like
            return (null, [], UnsupportedMediaType());
        }

        if (raw.Length == 0)
        {
            return required ? (null, raw, Problems.Validation("a JSON object body is required")) : ([], raw, null);
        }

        try
        {
            // duplicate names would otherwise throw later, when a handler first reads the object
            var node = JsonNode.Parse(raw, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth, AllowDuplicateProperties = false });
            Materialize(node);
            return node is JsonObject obj
                ? (obj, raw, null)
                : (null, raw, Problems.Validation("the body must be a JSON object"));
        }
        catch (JsonException ex)
        {
            return (null, raw, Problems.Validation($"the body is not valid JSON: {ex.Message}"));
        }
        catch (InvalidOperationException)
        {
            // a property name that is not valid UTF-16 (a lone surrogate escape) or not valid UTF-8
            return (null, raw, Problems.Validation("the body has a property name that is not valid text"));
        }
    }

    /// <summary><c>application/json</c> or a <c>+json</c> type, in UTF-8 (the only encoding JSON may travel in between systems).</summary>
    private static bool IsJson(string contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not { } type)
        {
            return false;
        }

        var json = type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        return json && (media.Charset.Value is null || media.Charset.Value.Equals("utf-8", StringComparison.OrdinalIgnoreCase));
    }

    private static ProblemResult UnsupportedMediaType() =>
        Problems.Of(ProblemCodes.UnsupportedMediaType, "The body must be JSON.", "send Content-Type: application/json");

    /// <summary>
    /// A parsed <see cref="JsonNode"/> decodes property names lazily, on first read; reading them all here makes a bad
    /// name fail inside the parse's try rather than as a 500 in whichever handler touches it first.
    /// </summary>
    private static void Materialize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (_, child) in obj)
                {
                    Materialize(child);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    Materialize(child);
                }

                break;
        }
    }
}
