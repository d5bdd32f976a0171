using Microsoft.AspNetCore.OpenApi;

namespace Molecule.Api.OpenApi;

/// <summary>
/// The contract as OpenAPI 3.1 at <c>GET /openapi/v1.json</c>, in the roles that serve the API only (so no worker route is
/// ever in it), to any authenticated caller (the bearer middleware runs before it: no token → 401). Built from the
/// route table (typed results, <c>Accepts</c>, problem codes) and the same JSON metadata the answers are written with.
/// </summary>
public static class OpenApiRegistration
{
    public const string DocumentName = "v1";

    public const string Route = "/openapi/{documentName}.json";

    public static IServiceCollection AddMoleculeOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.AddDocumentTransformer(new ContractDocumentTransformer());
            options.AddOperationTransformer(new RequestBodyTransformer());
            options.AddOperationTransformer(new ProblemResponsesTransformer());
            options.AddOperationTransformer(new ParameterSchemasTransformer());
            options.AddOperationTransformer(new HeadersTransformer());
            options.AddSchemaTransformer(new ContractSchemasTransformer());
        });

    public static void MapMoleculeOpenApi(this WebApplication app) => app.MapOpenApi(Route);
}
