using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Hosting;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.DynamoDb;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Sweeps;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Hosting;

/// <summary>
/// <see cref="MoleculeWorkspacesRegistration.AddMoleculeWorkspaces"/>: the one wiring of the library (host, harnesses,
/// benchmarks). From configuration alone it resolves every part the host uses; a value no operator means refuses to
/// start, naming the setting.
/// </summary>
public sealed class MoleculeWorkspacesRegistrationTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public void Configuration_alone_wires_every_part_the_host_uses()
    {
        using var services = Build(new Dictionary<string, string?>
        {
            ["Molecule:DeploymentId"] = "registration-test",
            ["Molecule:DefaultProvider"] = "sim-west",
            ["Molecule:Providers:sim-west:Type"] = "sim",
            ["Molecule:Operations:PollIntervalSeconds"] = "0.25",
            ["Molecule:Sweeps:IntervalSeconds"] = "30",
        });

        Assert.NotNull(services.GetRequiredService<WorkspaceCreator>());
        Assert.NotNull(services.GetRequiredService<OperationStarter>());
        Assert.NotNull(services.GetRequiredService<WorkspaceDeleter>());
        Assert.NotNull(services.GetRequiredService<IStepExecutor>());
        Assert.Equal(["orphan-sweeper", "instance-reconciler"], services.GetServices<ISweep>().Select(s => s.Name));
        Assert.IsType<LocalOperationRunner>(services.GetRequiredService<IOperationDispatcher>());
        Assert.IsType<SimProvider>(services.GetRequiredService<ProviderRegistry>().Get("sim-west"));
        Assert.Equal("sim-west", services.GetRequiredService<ProviderRegistry>().DefaultProvider);
        Assert.Equal("registration-test", services.GetRequiredService<DeploymentIdentity>().Id);
        Assert.Equal(TimeSpan.FromMilliseconds(250), services.GetRequiredService<OperationOptions>().PollInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), services.GetRequiredService<SweepOptions>().Interval);
    }

    [Fact]
    public void Dynamodb_mode_hands_operations_to_the_dispatch_table()
    {
        using var services = Build(new Dictionary<string, string?>
        {
            ["Molecule:Dispatch:Mode"] = "dynamodb",
            ["Molecule:Dispatch:TableName"] = "molecule-dispatch",
            ["Molecule:Dispatch:ServiceUrl"] = "http://127.0.0.1:9",
        });

        Assert.IsType<DynamoDbOperationDispatcher>(services.GetRequiredService<IOperationDispatcher>());
        Assert.Equal("molecule-dispatch", services.GetRequiredService<DynamoDbDispatchOptions>().TableName);
    }

    [Theory]
    [InlineData("Molecule:Dispatch:Mode", "sqs", "Molecule:Dispatch:Mode 'sqs' is not a mode; use 'local' or 'dynamodb'")]
    [InlineData("Molecule:Dispatch:Mode", "DynamoDB", "Molecule:Dispatch:Mode 'DynamoDB' is not a mode")]
    [InlineData("Molecule:Operations:LeaseSeconds", "0", "Molecule:Operations:LeaseSeconds must be above 0")]
    [InlineData("Molecule:Operations:PollIntervalSeconds", "-5", "Molecule:Operations:PollIntervalSeconds must be above 0")]
    [InlineData("Molecule:Delete:BudgetSeconds", "45", "Molecule:Delete:BudgetSeconds must be above 0 and below 30")]
    [InlineData("Molecule:Sweeps:TickBudgetFraction", "1.5", "Molecule:Sweeps:TickBudgetFraction must be between 0 and 1")]
    [InlineData("Molecule:DeploymentId", " ", "Molecule:DeploymentId must not be empty")]
    public void A_value_no_operator_means_refuses_to_start_naming_the_setting(string key, string value, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(new Dictionary<string, string?> { [key] = value }).Dispose());

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Dynamodb_mode_without_a_table_refuses_to_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(new Dictionary<string, string?> { ["Molecule:Dispatch:Mode"] = "dynamodb" }).Dispose());

        Assert.Contains("Molecule:Dispatch:TableName is required", error.Message);
    }

    /// <summary>The registration as a host makes it: configuration, null logging, and the sealer a host adds itself.</summary>
    private ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection()
            .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddSingleton(new IdempotencyTokenSealer([new byte[IdempotencyTokenSealer.KeyBytes]]))
            .AddMoleculeWorkspaces(configuration, database.ConnectionString)
            .BuildServiceProvider();
    }
}
