using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Hosting;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Store;
using Npgsql;

namespace Molecule.Bench;

/// <summary>
/// The library wired as the host wires it (<see cref="MoleculeWorkspacesRegistration.AddMoleculeWorkspaces"/>), on a
/// scratch database, with real time, the given sim providers and options, and the local runner as the dispatcher.
/// </summary>
internal sealed class BenchStack
{
    public BenchStack(NpgsqlDataSource db, string deployment, OperationOptions options, params SimProvider[] sims)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Molecule:DeploymentId"] = deployment, ["Molecule:DefaultProvider"] = sims[0].Name })
            .Build();
        var services = new ServiceCollection()
            .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .AddMoleculeWorkspaces(configuration, db.ConnectionString);

        // the benchmark's own database, providers and options, registered after the library's, are the ones resolved
        services.AddSingleton(db);
        services.AddSingleton(new ProviderRegistry(sims, sims[0].Name));
        services.AddSingleton(options);
        services.AddSingleton(new IdempotencyTokenSealer([System.Security.Cryptography.RandomNumberGenerator.GetBytes(IdempotencyTokenSealer.KeyBytes)]));
        Services = services.BuildServiceProvider();
    }

    public IServiceProvider Services { get; }

    public OperationStore Operations => Services.GetRequiredService<OperationStore>();

    public StepContext Context => Services.GetRequiredService<StepContext>();

    public LocalOperationRunner Runner => Services.GetRequiredService<LocalOperationRunner>();

    public OperationStarter Starter => Services.GetRequiredService<OperationStarter>();

    public WorkspaceCreator Creator => Services.GetRequiredService<WorkspaceCreator>();
}
