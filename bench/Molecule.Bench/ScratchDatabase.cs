using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Store;
using Npgsql;

namespace Molecule.Bench;

/// <summary>
/// A fresh, migrated database for one benchmark run, on the server the tests use (<c>MOLECULE_TEST_POSTGRES</c>, an
/// admin connection string; <c>infra/dev.sh bench</c> starts the server and sets it). Dropped on dispose unless kept.
/// </summary>
public sealed class ScratchDatabase : IAsyncDisposable
{
    public const string AdminConnectionVariable = "MOLECULE_TEST_POSTGRES";

    private readonly string adminConnectionString;
    private readonly bool keep;

    private ScratchDatabase(string adminConnectionString, string name, bool keep)
    {
        this.adminConnectionString = adminConnectionString;
        this.keep = keep;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public static async Task<ScratchDatabase> CreateAsync(string prefix, bool keep, CancellationToken ct)
    {
        var admin = Environment.GetEnvironmentVariable(AdminConnectionVariable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            throw new BenchUsageException($"{AdminConnectionVariable} is not set: run it with 'infra/dev.sh bench', which starts PostgreSQL and sets it");
        }

        var name = $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)];
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync(ct);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await create.ExecuteNonQueryAsync(ct);
        }

        var database = new ScratchDatabase(admin, name, keep);
        await new DatabaseMigrator(database.ConnectionString, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(ct);
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (keep)
        {
            Console.WriteLine($"  kept database {Name}");
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(adminConnectionString);
        await conn.OpenAsync(CancellationToken.None);
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", conn);
        await drop.ExecuteNonQueryAsync(CancellationToken.None);
    }
}
