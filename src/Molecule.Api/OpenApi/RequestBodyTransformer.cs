using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Molecule.Api.OpenApi;

/// <summary>
/// The JSON body a route reads by hand (<see cref="Http.JsonBody"/>), for the OpenAPI document. Not the framework's
/// <c>Accepts&lt;T&gt;()</c>: that also takes part in routing, which would answer a body of another media type with a bare
/// 415 of its own before the route's reader could answer its <c>UNSUPPORTED_MEDIA_TYPE</c> problem.
/// </summary>
public sealed record JsonBodyMetadata(Type Type);

public static class JsonBodyEndpointExtensions
{
    public static RouteHandlerBuilder AcceptsJson<T>(this RouteHandlerBuilder builder) => builder.WithMetadata(new JsonBodyMetadata(typeof(T)));
}

/// <summary>The route's <see cref="JsonBodyMetadata"/> as its required <c>application/json</c> request body, its schema a component.</summary>
public sealed class RequestBodyTransformer : IOpenApiOperationTransformer
{
    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<JsonBodyMetadata>().FirstOrDefault() is not { } body
            || context.Document is not { } document)
        {
            return;
        }

        var schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken);
        document.AddComponent(body.Type.Name, schema);
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/json"] = new() { Schema = new OpenApiSchemaReference(body.Type.Name, document) },
            },
        };
    }
}
