namespace Molecule.Api.Hosting;

/// <summary>
/// <c>Molecule:Database:*</c>: where the connection string comes from when <c>ConnectionStrings:Postgres</c> is not
/// set (an SSM SecureString, in AWS), and the pool and timeouts a Lambda function wants on top of it.
/// </summary>
public sealed class DatabaseSettings
{
    public const string SectionName = "Molecule:Database";

    /// <summary>
    /// Name of the SSM Parameter Store parameter (a SecureString) that holds the Npgsql connection string; read once at
    /// start with decryption. Unused when <c>ConnectionStrings:Postgres</c> is set. <value>The default is none.</value>
    /// </summary>
    public string? ConnectionStringParameter { get; set; }

    /// <summary>How long reading that parameter may take, in seconds. <value>The default is 10 s.</value></summary>
    public double ParameterTimeoutSeconds { get; set; } = 10;

    /// <summary>SSM endpoint override (an emulator, or a VPC endpoint without private DNS). <value>The default is the regional endpoint.</value></summary>
    public string? SsmServiceUrl { get; set; }

    /// <summary>
    /// Overrides the pool's <c>Maximum Pool Size</c>. A Lambda instance serves one request at a time, so a few
    /// connections are enough and many instances times a big pool would exhaust the database's
    /// <c>max_connections</c>. <value>The default is the connection string's own (Npgsql: 100).</value>
    /// </summary>
    public int? MaxPoolSize { get; set; }

    /// <summary>Overrides <c>Command Timeout</c>, in seconds, so no query outlives a request's budget. <value>The default is the connection string's own (Npgsql: 30 s).</value></summary>
    public int? CommandTimeoutSeconds { get; set; }

    /// <summary>Overrides <c>Timeout</c> (connecting, or waiting for a pooled connection), in seconds. <value>The default is the connection string's own (Npgsql: 15 s).</value></summary>
    public int? ConnectTimeoutSeconds { get; set; }

    /// <summary>
    /// Overrides <c>Max Auto Prepare</c>: how many statements each connection prepares on the server once used 5 times, so
    /// a hot read (<c>GET /workspaces/{id}</c>) is not planned again on every request. 0 turns it off: do that behind
    /// a pooler that cannot keep a session's prepared statements (PgBouncer in transaction mode; RDS Proxy pins a
    /// session that prepares). <value>The default is 20, unless the connection string names its own.</value>
    /// </summary>
    public int? MaxAutoPrepare { get; set; }

    /// <summary>Applied when neither this setting nor the connection string names one.</summary>
    public const int DefaultMaxAutoPrepare = 20;

    public TimeSpan ParameterTimeout => TimeSpan.FromSeconds(ParameterTimeoutSeconds);

    public static DatabaseSettings From(IConfiguration configuration) =>
        (configuration.GetSection(SectionName).Get<DatabaseSettings>() ?? new DatabaseSettings()).Validate();

    /// <summary>Refuses, at start-up and naming the setting, a value no operator means.</summary>
    public DatabaseSettings Validate()
    {
        Require(ParameterTimeoutSeconds > 0, nameof(ParameterTimeoutSeconds), ParameterTimeoutSeconds);
        Require(MaxPoolSize is null or > 0, nameof(MaxPoolSize), MaxPoolSize);
        Require(CommandTimeoutSeconds is null or > 0, nameof(CommandTimeoutSeconds), CommandTimeoutSeconds);
        Require(ConnectTimeoutSeconds is null or > 0, nameof(ConnectTimeoutSeconds), ConnectTimeoutSeconds);
        if (MaxAutoPrepare is < 0)
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(MaxAutoPrepare)} must not be negative (got '{MaxAutoPrepare}')");
        }

        return this;
    }

    private static void Require(bool holds, string setting, object? value)
    {
        if (!holds)
        {
            throw new InvalidOperationException($"{SectionName}:{setting} must be above 0 (got '{value}')");
        }
    }
}
