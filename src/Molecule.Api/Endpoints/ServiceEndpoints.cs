using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Providers;
using Npgsql;

namespace Molecule.Api.Endpoints;

/// <summary>Health, readiness and the provider list.</summary>
public static class ServiceEndpoints
{
    public static Ok<StatusAnswer> Healthz() => TypedResults.Ok(new StatusAnswer("ok"));

    /// <summary>Ready when Postgres answers within two seconds.</summary>
    public static async Task<Results<Ok<StatusAnswer>, ProblemResult>> ReadyzAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await using var cmd = db.CreateCommand("SELECT 1");
            await cmd.ExecuteScalarAsync(timeout.Token);
            return TypedResults.Ok(new StatusAnswer("ready"));
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return Problems.Of(ProblemCodes.NotReady, "The database does not answer.");
        }
    }

    /// <summary><c>GET /providers</c> (admin): a workspace token may use only its own workspace's routes (DESIGN §10); the list is no one workspace's.</summary>
    public static Ok<IReadOnlyList<ProviderAnswer>> Providers(ProviderRegistry providers) =>
        TypedResults.Ok<IReadOnlyList<ProviderAnswer>>(providers.All.OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => new ProviderAnswer(p.Name, p.Type, p.Name == providers.DefaultProvider))
            .ToArray());
}
