using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Molecule.Api.OpenApi;

/// <summary>
/// The headers of the route table (<see cref="RequestHeaderMetadata"/>, <see cref="ResponseHeaderMetadata"/>) into the
/// operation: the ones the canvas sends (<c>Idempotency-Key</c>, <c>If-Match</c>, <c>X-Confirm-Name</c>) and the ones it
/// reads (<c>Location</c>, <c>ETag</c>, <c>Link</c>, <c>Retry-After</c>). Runs after the problem responses are written.
/// </summary>
public sealed class HeadersTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        foreach (var header in metadata.OfType<RequestHeaderMetadata>())
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = header.Name,
                In = ParameterLocation.Header,
                Description = header.Description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }

        foreach (var header in metadata.OfType<ResponseHeaderMetadata>())
        {
            var status = header.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (operation.Responses?.TryGetValue(status, out var found) is true && found is OpenApiResponse response)
            {
                response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                response.Headers[header.Name] = new OpenApiHeader
                {
                    Description = header.Description,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                };
            }
        }

        return Task.CompletedTask;
    }
}
