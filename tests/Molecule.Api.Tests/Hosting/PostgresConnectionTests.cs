using Microsoft.Extensions.Configuration;
using Molecule.Api.Hosting;
using Molecule.Api.Tests.Infrastructure;
using Npgsql;

namespace Molecule.Api.Tests.Hosting;

/// <summary>Where the connection string comes from (configuration, else an SSM SecureString) and the pool put on it.</summary>
public sealed class PostgresConnectionTests : IAsyncLifetime
{
    private const string Parameter = "/molecule/test/postgres";
    private const string Secret = "Host=db.internal;Port=5432;Username=molecule;Password=s3cret-pw;Database=molecule";

    private FakeSsm ssm = null!;

    public async Task InitializeAsync() => ssm = await FakeSsm.StartAsync();

    public async Task DisposeAsync() => await ssm.DisposeAsync();

    [Fact]
    public async Task The_connection_string_is_read_from_the_ssm_parameter_with_decryption()
    {
        ssm.Parameters[Parameter] = Secret;

        var postgres = await ResolveAsync(new DatabaseSettings { ConnectionStringParameter = Parameter });

        var builder = new NpgsqlConnectionStringBuilder(postgres.ConnectionString);
        Assert.Null(postgres.Error);
        Assert.Equal("db.internal", builder.Host);
        Assert.Equal("s3cret-pw", builder.Password);
        var request = Assert.Single(ssm.Requests);
        Assert.Equal(Parameter, (string?)request["Name"]);
        Assert.True((bool?)request["WithDecryption"]);
    }

    [Fact]
    public async Task A_configured_connection_string_wins_and_ssm_is_not_asked()
    {
        ssm.Parameters[Parameter] = Secret;

        var postgres = await ResolveAsync(new DatabaseSettings { ConnectionStringParameter = Parameter }, "Host=localhost;Database=local");

        Assert.Equal("localhost", new NpgsqlConnectionStringBuilder(postgres.ConnectionString).Host);
        Assert.Empty(ssm.Requests);
    }

    [Fact]
    public async Task A_missing_parameter_is_an_error_naming_it()
    {
        var postgres = await ResolveAsync(new DatabaseSettings { ConnectionStringParameter = "/molecule/absent" });

        Assert.Contains("'/molecule/absent' does not exist", postgres.Error);
        var error = Assert.Throws<InvalidOperationException>(() => postgres.ConnectionString);
        Assert.Contains("/molecule/absent", error.Message);
    }

    [Fact]
    public async Task An_ssm_that_does_not_answer_is_an_error_within_the_timeout_naming_the_parameter_and_the_route()
    {
        ssm.Parameters[Parameter] = Secret;
        ssm.Stall = TimeSpan.FromSeconds(30);
        var started = DateTime.UtcNow;

        var postgres = await ResolveAsync(new DatabaseSettings { ConnectionStringParameter = Parameter }, timeout: TimeSpan.FromSeconds(1));

        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.Contains($"'{Parameter}' could not be read within 1 s", postgres.Error);
        Assert.Contains("VPC endpoint", postgres.Error);
    }

    [Fact]
    public async Task A_parameter_that_is_not_a_connection_string_is_an_error_that_does_not_echo_its_value()
    {
        ssm.Parameters[Parameter] = "postgres://molecule:s3cret-pw@db.internal/molecule";

        var postgres = await ResolveAsync(new DatabaseSettings { ConnectionStringParameter = Parameter });

        Assert.Contains($"SSM parameter '{Parameter}' is not an Npgsql connection string", postgres.Error);
        Assert.DoesNotContain("s3cret-pw", postgres.Error);
    }

    [Fact]
    public async Task The_pool_size_and_timeouts_of_a_lambda_function_are_put_on_the_string()
    {
        ssm.Parameters[Parameter] = Secret + ";Maximum Pool Size=100;Minimum Pool Size=10";

        var postgres = await ResolveAsync(new DatabaseSettings
        {
            ConnectionStringParameter = Parameter,
            MaxPoolSize = 3,
            CommandTimeoutSeconds = 10,
            ConnectTimeoutSeconds = 5,
        });

        var builder = new NpgsqlConnectionStringBuilder(postgres.ConnectionString);
        Assert.Equal(3, builder.MaxPoolSize);
        Assert.Equal(3, builder.MinPoolSize);
        Assert.Equal(10, builder.CommandTimeout);
        Assert.Equal(5, builder.Timeout);
    }

    [Fact]
    public async Task Hot_statements_are_prepared_on_the_server_unless_the_string_says_otherwise()
    {
        var byDefault = await ResolveAsync(new DatabaseSettings(), connectionString: "Host=localhost;Username=u;Database=d");
        var ownSetting = await ResolveAsync(new DatabaseSettings(), connectionString: "Host=localhost;Username=u;Database=d;Max Auto Prepare=0");
        var overridden = await ResolveAsync(new DatabaseSettings { MaxAutoPrepare = 0 }, connectionString: "Host=localhost;Username=u;Database=d");

        Assert.Equal(DatabaseSettings.DefaultMaxAutoPrepare, new NpgsqlConnectionStringBuilder(byDefault.ConnectionString).MaxAutoPrepare);
        Assert.Equal(0, new NpgsqlConnectionStringBuilder(ownSetting.ConnectionString).MaxAutoPrepare);
        Assert.Equal(0, new NpgsqlConnectionStringBuilder(overridden.ConnectionString).MaxAutoPrepare);
    }

    [Fact]
    public async Task Neither_a_string_nor_a_parameter_is_an_error_naming_both_settings()
    {
        var postgres = await ResolveAsync(new DatabaseSettings());

        Assert.Contains("ConnectionStrings:Postgres", postgres.Error);
        Assert.Contains("Molecule:Database:ConnectionStringParameter", postgres.Error);
        Assert.Empty(ssm.Requests);
    }

    [Fact]
    public async Task An_ssm_client_that_cannot_be_built_is_an_error_naming_the_parameter()
    {
        var configuration = new ConfigurationBuilder().Build();

        var postgres = await PostgresConnection.ResolveAsync(configuration, new DatabaseSettings { ConnectionStringParameter = Parameter },
            () => throw new Amazon.Runtime.AmazonClientException("No RegionEndpoint or ServiceURL configured"), CancellationToken.None);

        Assert.Contains($"SSM parameter '{Parameter}' could not be read: No RegionEndpoint", postgres.Error);
    }

    [Theory]
    [InlineData("Molecule:Database:MaxPoolSize", "0")]
    [InlineData("Molecule:Database:ParameterTimeoutSeconds", "-1")]
    [InlineData("Molecule:Database:MaxAutoPrepare", "-1")]
    public void A_database_setting_no_operator_means_refuses_to_start(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();

        var error = Assert.Throws<InvalidOperationException>(() => DatabaseSettings.From(configuration));

        Assert.Contains(key, error.Message);
    }

    private Task<PostgresConnection> ResolveAsync(DatabaseSettings settings, string? connectionString = null, TimeSpan? timeout = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString })
            .Build();
        return PostgresConnection.ResolveAsync(configuration, settings, () => ssm.Reader(timeout ?? TimeSpan.FromSeconds(5)), CancellationToken.None);
    }
}
