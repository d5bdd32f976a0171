using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Molecule.Api.Http;

namespace Molecule.Api.OpenApi;

/// <summary>
/// The routes bind their query values as strings (so binding never answers for them) and parse them through
/// <see cref="QueryValues"/>; this gives each its real shape from <see cref="QueryValues.Schemas"/>. A path <c>id</c> is a
/// UUID (anything else: 400 <c>VALIDATION</c>).
/// </summary>
public sealed class ParameterSchemasTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            if (parameter.In == ParameterLocation.Query && parameter.Name is { } name && QueryValues.Schemas.TryGetValue(name, out var query))
            {
                parameter.Description = query.Description;
                parameter.Schema = Schema(query);
            }
            else if (parameter.In == ParameterLocation.Path && parameter.Name == "id")
            {
                parameter.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" };
            }
        }

        return Task.CompletedTask;
    }

    private static OpenApiSchema Schema(QuerySchema query) => query.Type switch
    {
        QueryType.Integer => new OpenApiSchema
        {
            Type = JsonSchemaType.Integer,
            Format = "int32",
            Minimum = query.Minimum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Maximum = query.Maximum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        QueryType.Boolean => new OpenApiSchema { Type = JsonSchemaType.Boolean },
        QueryType.Uuid => new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" },
        _ => new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Enum = query.Enum?.Select(e => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(e)!).ToList(),
        },
    };
}
