using System.Text.Json.Nodes;
using Molecule.Api.Http;
using Molecule.Workspaces.Providers;
using Npgsql;

namespace Molecule.Api.Endpoints;

/// <summary>Health, readiness and the provider list.</summary>
public static class ServiceEndpoints
{
    public static IResult Healthz() => new JsonNodeResult(new JsonObject { ["status"] = "ok" }, StatusCodes.Status200OK);

    /// <summary>Ready when Postgres answers within two seconds.</summary>
    public static async Task<IResult> ReadyzAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await using var cmd = db.CreateCommand("SELECT 1");
            await cmd.ExecuteScalarAsync(timeout.Token);
            return new JsonNodeResult(new JsonObject { ["status"] = "ready" }, StatusCodes.Status200OK);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return Problems.Of(503, "NOT_READY", "The database does not answer.");
        }
    }

    public static IResult Providers(HttpContext http, ProviderRegistry providers)
    {
        // a workspace token may use only its own workspace's routes (DESIGN §10); the provider list is no one workspace's
        if (WorkspaceAccess.RequireAdmin(http) is { } forbidden)
        {
            return forbidden;
        }

        return new JsonNodeResult(
            new JsonArray(providers.All.OrderBy(p => p.Name, StringComparer.Ordinal)
                .Select(p => (JsonNode)new JsonObject { ["name"] = p.Name, ["type"] = p.Type, ["default"] = p.Name == providers.DefaultProvider })
                .ToArray()),
            StatusCodes.Status200OK);
    }
}
