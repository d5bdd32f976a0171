using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Molecule.Api.Auth;
using Molecule.Api.Http;

namespace Molecule.Api.OpenApi;

/// <summary>
/// Each route's problem answers, from the codes its route table entry declares (<see cref="ProblemCodesMetadata"/>):
/// one response per status, whose description lists each <c>error</c> code and what it means, and whose schema is the
/// problem document of those codes (one of several when they differ). Every route that needs a token can also answer
/// 401 <c>UNAUTHORIZED</c>, and 503 <c>DATABASE_UNAVAILABLE</c> (the token itself is looked up in Postgres). A 503 says
/// when to retry in <c>Retry-After</c>.
/// </summary>
public sealed class ProblemResponsesTransformer : IOpenApiOperationTransformer
{
    /// <summary>Every problem document type: each gets a schema in the document's components.</summary>
    public static IReadOnlyList<Type> DocumentTypes { get; } = typeof(ProblemCodes).GetFields()
        .Select(f => f.GetValue(null))
        .OfType<ProblemCode>()
        .Select(c => c.Document)
        .Distinct()
        .ToArray();

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var codes = context.Description.ActionDescriptor.EndpointMetadata.OfType<ProblemCodesMetadata>().SelectMany(m => m.Codes).ToList();
        if (!BearerAuthMiddleware.IsOpen(new PathString("/" + context.Description.RelativePath)))
        {
            codes.Add(ProblemCodes.Unauthorized);
            codes.Add(ProblemCodes.DatabaseUnavailable);
        }

        operation.Responses ??= new OpenApiResponses();
        foreach (var status in codes.Distinct().GroupBy(c => c.Status).OrderBy(g => g.Key))
        {
            var types = status.Select(c => c.Document).Distinct().ToList();
            IOpenApiSchema schema = types.Count == 1
                ? Reference(types[0], context.Document)
                : new OpenApiSchema { AnyOf = types.Select(t => (IOpenApiSchema)Reference(t, context.Document)).ToList() };
            operation.Responses[status.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponse
            {
                Description = string.Join("; ", status.Select(c => $"`{c.Error}`: {c.Meaning}")),
                Content = new Dictionary<string, OpenApiMediaType> { [ProblemResult.MediaType] = new() { Schema = schema } },
                Headers = status.Key == StatusCodes.Status503ServiceUnavailable && status.Any(c => c != ProblemCodes.NotReady)
                    ? new Dictionary<string, IOpenApiHeader>
                    {
                        ["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait before retrying.", Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                    }
                    : null,
            };
        }

        return Task.CompletedTask;
    }

    private static OpenApiSchemaReference Reference(Type type, OpenApiDocument? document) => new(type.Name, document);
}
