using Npgsql;

namespace Molecule.Api.Hosting;

/// <summary>
/// The connection string the host uses, resolved once at start: <c>ConnectionStrings:Postgres</c> when set (local runs,
/// tests), else the SSM parameter <c>Molecule:Database:ConnectionStringParameter</c> (AWS); then the pool size and
/// timeouts of <see cref="DatabaseSettings"/> on top. Holds the reason instead when it could not be resolved, so the
/// <c>migrate</c> role can still answer CloudFormation with it (every other role refuses to start).
/// </summary>
public sealed class PostgresConnection
{
    private readonly string? connectionString;

    private PostgresConnection(string? connectionString, string? error)
    {
        this.connectionString = connectionString;
        Error = error;
    }

    /// <summary>Why there is no connection string, or null.</summary>
    public string? Error { get; }

    /// <summary>The connection string; throws with the reason when it could not be resolved.</summary>
    public string ConnectionString => connectionString ?? throw new InvalidOperationException(Error);

    public static PostgresConnection Of(string connectionString) => new(connectionString, null);

    public static async Task<PostgresConnection> ResolveAsync(
        IConfiguration configuration, DatabaseSettings settings, Func<SsmParameterReader> ssm, CancellationToken ct)
    {
        var given = configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(given) && string.IsNullOrWhiteSpace(settings.ConnectionStringParameter))
        {
            return new PostgresConnection(null,
                "ConnectionStrings:Postgres is not set and Molecule:Database:ConnectionStringParameter names no SSM parameter (infra/dev.sh run sets the first for you)");
        }

        try
        {
            var raw = string.IsNullOrWhiteSpace(given)
                ? await ssm().ReadSecretAsync(settings.ConnectionStringParameter!, ct)
                : given;
            return Of(Tune(raw, settings, string.IsNullOrWhiteSpace(given) ? settings.ConnectionStringParameter : null));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or ArgumentException)
        {
            return new PostgresConnection(null, ex.Message);
        }
        catch (Amazon.Runtime.AmazonClientException ex)
        {
            // the client itself could not be built (no region, say): still an error that names the parameter
            return new PostgresConnection(null, $"SSM parameter '{settings.ConnectionStringParameter}' could not be read: {ex.Message}");
        }
    }

    /// <summary>Applies the pool size, timeouts and statement preparation; a string Npgsql cannot parse fails naming where it came from, not what it holds.</summary>
    private static string Tune(string raw, DatabaseSettings settings, string? parameter)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(raw);
        }
        catch (ArgumentException)
        {
            var source = parameter is null ? "ConnectionStrings:Postgres" : $"SSM parameter '{parameter}'";
            throw new ArgumentException($"{source} is not an Npgsql connection string");
        }

        if (settings.MaxPoolSize is { } maxPool)
        {
            builder.MaxPoolSize = maxPool;
            builder.MinPoolSize = Math.Min(builder.MinPoolSize, maxPool);
        }

        if (settings.CommandTimeoutSeconds is { } command)
        {
            builder.CommandTimeout = command;
        }

        if (settings.ConnectTimeoutSeconds is { } connect)
        {
            builder.Timeout = connect;
        }

        if (settings.MaxAutoPrepare is { } prepare)
        {
            builder.MaxAutoPrepare = prepare;
        }
        else if (!NamesAutoPrepare(raw))
        {
            builder.MaxAutoPrepare = DatabaseSettings.DefaultMaxAutoPrepare;
        }

        return builder.ConnectionString;
    }

    /// <summary>Whether the string sets <c>Max Auto Prepare</c> itself (Npgsql's builder reports every keyword it knows as present).</summary>
    private static bool NamesAutoPrepare(string raw) =>
        new System.Data.Common.DbConnectionStringBuilder { ConnectionString = raw }.Keys.Cast<string>()
            .Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase));
}
