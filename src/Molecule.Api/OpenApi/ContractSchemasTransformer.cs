using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Molecule.Api.Contract;

namespace Molecule.Api.OpenApi;

/// <summary>
/// A problem document's <c>type</c> is always <c>about:blank</c>. Request bodies are open objects: the canvas sends fields this control plane does not model (<c>role</c>,
/// <c>template</c>, <c>model</c>, …), which are accepted and ignored, so a client typed from the document may send them
/// too. A PATCH field may be left out but never be null (400: none can be cleared).
/// </summary>
public sealed class ContractSchemasTransformer : IOpenApiSchemaTransformer
{
    private static readonly HashSet<Type> Requests =
    [
        typeof(CreateWorkspaceRequest), typeof(CanvasPosition), typeof(ComputeRequest), typeof(VolumeRequest),
        typeof(PatchWorkspaceRequest), typeof(ProviderChange), typeof(SwitchProviderRequest), typeof(SimFaultsRequest),
    ];

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if (type.IsAssignableTo(typeof(ProblemDocument)) && schema.Properties?.TryGetValue("type", out var problemType) is true
            && problemType is OpenApiSchema constant)
        {
            constant.Type = JsonSchemaType.String;
            constant.Enum = [System.Text.Json.Nodes.JsonValue.Create("about:blank")];
            schema.Required ??= new HashSet<string>();
            schema.Required.Add("type");
            return Task.CompletedTask;
        }

        if (!Requests.Contains(type))
        {
            return Task.CompletedTask;
        }

        schema.AdditionalProperties = new OpenApiSchema();
        if (type == typeof(PatchWorkspaceRequest))
        {
            foreach (var property in schema.Properties?.Values.OfType<OpenApiSchema>() ?? [])
            {
                property.Type &= ~JsonSchemaType.Null;
            }
        }

        return Task.CompletedTask;
    }
}
