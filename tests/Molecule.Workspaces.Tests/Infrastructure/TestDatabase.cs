using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Store;
using Npgsql;

namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>
/// A fresh, migrated PostgreSQL database for one test class, on the real server that <c>infra/dev.sh test</c> starts
/// (<c>MOLECULE_TEST_POSTGRES</c>, an admin connection string) or on a server of the test's own
/// (<see cref="PrivatePostgres"/>). Dropped when the class is done. An <see cref="Unmigrated"/> one is empty.
/// </summary>
public sealed class TestDatabase : IAsyncLifetime
{
    public const string AdminConnectionVariable = "MOLECULE_TEST_POSTGRES";

    private readonly string name = "molecule_test_" + Guid.NewGuid().ToString("N")[..16];
    private readonly bool migrated;
    private readonly string? serverAdminConnectionString;

    // xUnit builds a class fixture through its one public constructor
    public TestDatabase()
        : this(migrated: true, serverAdminConnectionString: null)
    {
    }

    private TestDatabase(bool migrated, string? serverAdminConnectionString)
    {
        this.migrated = migrated;
        this.serverAdminConnectionString = serverAdminConnectionString;
    }

    /// <summary>A fresh database with no schema at all, as one is before the first deploy.</summary>
    public static TestDatabase Unmigrated() => new(migrated: false, serverAdminConnectionString: null);

    /// <summary>A database on the server <paramref name="adminConnectionString"/> reaches, not the shared one.</summary>
    public static TestDatabase OnServer(string adminConnectionString) => new(migrated: true, adminConnectionString);

    private string ServerAdmin => serverAdminConnectionString ?? AdminConnectionString;

    public string ConnectionString { get; private set; } = "";

    public NpgsqlDataSource DataSource { get; private set; } = null!;


    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable(AdminConnectionVariable)
        ?? throw new InvalidOperationException(
            $"{AdminConnectionVariable} is not set: run the tests with 'infra/dev.sh test', which starts PostgreSQL and sets it");

    public async Task InitializeAsync()
    {
        await using (var admin = new NpgsqlConnection(ServerAdmin))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        ConnectionString = new NpgsqlConnectionStringBuilder(ServerAdmin) { Database = name, MaxPoolSize = 200 }.ConnectionString;
        if (migrated)
        {
            await new DatabaseMigrator(ConnectionString, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(CancellationToken.None);
        }

        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (DataSource is not null)
        {
            await DataSource.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(ServerAdmin);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        var value = await cmd.ExecuteScalarAsync();
        return value is DBNull or null ? default! : (T)Convert.ChangeType(value, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T));
    }

    public async Task<int> ExecuteAsync(string sql, params object[] parameters)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        return await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// A fingerprint of every table's contents: equal before and after means nothing changed. Taken once no ended
    /// operation still holds its lease: a local walk releases its lease just after the commit a test waited for, and
    /// that release must not land between a test's "before" and "after".
    /// </summary>
    public async Task<string> FingerprintAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline
               && await ScalarAsync<long>("SELECT count(*) FROM operations WHERE lease_holder IS NOT NULL AND state NOT IN ('pending', 'running')") > 0)
        {
            await Task.Delay(20);
        }

        return await ScalarAsync<string>(FingerprintSql);
    }

    private const string FingerprintSql = """
        SELECT concat_ws('|',
            (SELECT md5(coalesce(string_agg(w::text, ',' ORDER BY id), '')) FROM workspaces w),
            (SELECT md5(coalesce(string_agg(o::text, ',' ORDER BY id), '')) FROM operations o),
            (SELECT md5(coalesce(string_agg(e::text, ',' ORDER BY id), '')) FROM structure_events e),
            (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY token_sha256), '')) FROM workspace_tokens t),
            (SELECT md5(coalesce(string_agg(k::text, ',' ORDER BY key), '')) FROM idempotency_keys k),
            (SELECT md5(coalesce(string_agg(p::text, ',' ORDER BY id), '')) FROM pending_terminations p),
            (SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY provider, instance_id), '')) FROM sim_instances s))
        """;
}
