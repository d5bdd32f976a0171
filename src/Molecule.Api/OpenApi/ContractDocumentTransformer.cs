using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Molecule.Api.Auth;
using Molecule.Api.Http;

namespace Molecule.Api.OpenApi;

/// <summary>
/// What the document says as a whole: its title, the bearer scheme every route but <c>/healthz</c> and <c>/readyz</c>
/// needs (an admin token, or the workspace token minted at create for that workspace's own routes), no server (the
/// document is the same behind API Gateway and locally: paths are relative to wherever it was fetched from), and a
/// schema for every problem document a route can answer with.
/// </summary>
public sealed class ContractDocumentTransformer : IOpenApiDocumentTransformer
{
    public const string BearerScheme = "bearer";

    public async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Molecule.Serverless",
            Version = "1",
            Description = "The control plane of Molecule's agent workspaces. JSON in snake_case; errors are application/problem+json with a " +
                "stable code in `error`. A field the canvas sends that is not modelled here is accepted and ignored.",
        };
        // relative: the same document behind API Gateway and locally, resolved against wherever it was fetched from
        document.Servers = [new OpenApiServer { Url = "/", Description = "where this document was fetched from" }];
        document.Tags = new HashSet<OpenApiTag>
        {
            new() { Name = "workspaces", Description = "Workspaces and their lifecycle: create, read, edit, switch, restart, pause, resume, delete." },
            new() { Name = "operations", Description = "The operations that walk a workspace's box, and the ones that look stuck." },
            new() { Name = "service", Description = "Health, readiness and the configured providers." },
            new() { Name = "sim", Description = "The simulated clouds (only when one is configured): their boxes and injected faults." },
        };

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            [BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An admin token (every route), or the workspace token minted at create (that workspace's own routes only; " +
                    "another workspace's → 403).",
            },
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
        foreach (var (path, item) in document.Paths)
        {
            if (BearerAuthMiddleware.IsOpen(new PathString(path)) && item.Operations is { } operations)
            {
                foreach (var operation in operations.Values)
                {
                    operation.Security = [];
                }
            }
        }

        // the problem documents the routes refer to (a worker route's, never mapped here, would be an unused component)
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        var referenced = ReferencedSchemas(document);
        foreach (var type in ProblemResponsesTransformer.DocumentTypes.Where(t => referenced.Contains(t.Name)))
        {
            if (!document.Components.Schemas.ContainsKey(type.Name))
            {
                document.Components.Schemas[type.Name] = await context.GetOrCreateSchemaAsync(type, null, cancellationToken);
            }
        }
    }

    private static HashSet<string> ReferencedSchemas(OpenApiDocument document)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var schemas = document.Paths.Values
            .SelectMany(p => p.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>())
            .SelectMany(o => o.Responses?.Values ?? Enumerable.Empty<IOpenApiResponse>())
            .SelectMany(r => r.Content?.Values ?? Enumerable.Empty<OpenApiMediaType>())
            .Select(m => m.Schema)
            .OfType<IOpenApiSchema>();
        foreach (var schema in schemas)
        {
            foreach (var one in schema.AnyOf is { } anyOf ? anyOf : [schema])
            {
                if (one is OpenApiSchemaReference { Reference.Id: { } id })
                {
                    names.Add(id);
                }
            }
        }

        return names;
    }
}
