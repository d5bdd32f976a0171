using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Molecule.Api.Contract;

namespace Molecule.Api.Http;

/// <summary>
/// The typed result of every 4xx/5xx answer: a <see cref="ProblemDocument"/> as <c>application/problem+json</c>, written
/// with the metadata of its own type (every problem type is in <see cref="ApiJsonContext"/>), so a code's extra members
/// are part of the answer.
/// </summary>
public sealed class ProblemResult(int statusCode, ProblemDocument document) : IResult, IStatusCodeHttpResult, IValueHttpResult, IContentTypeHttpResult
{
    public const string MediaType = "application/problem+json";

    public int StatusCode => statusCode;

    int? IStatusCodeHttpResult.StatusCode => statusCode;

    public ProblemDocument Document => document;

    object? IValueHttpResult.Value => document;

    public string ContentType => MediaType;

    public async Task ExecuteAsync(HttpContext http)
    {
        var json = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        http.Response.StatusCode = statusCode;
        http.Response.ContentType = MediaType;
        await JsonSerializer.SerializeAsync(http.Response.Body, document, json.GetTypeInfo(document.GetType()), http.RequestAborted);
    }
}
