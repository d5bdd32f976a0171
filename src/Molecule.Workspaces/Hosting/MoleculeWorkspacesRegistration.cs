using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.DynamoDb;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Molecule.Workspaces.Sweeps;
using Npgsql;

namespace Molecule.Workspaces.Hosting;

/// <summary>
/// The library wired in one place, from configuration: every options class bound and validated here, at start (a value
/// no operator means — an unknown <c>Molecule:Dispatch:Mode</c>, a budget out of range — refuses to start, naming the
/// setting), then the stores, providers, steps, operations, sweeps and the dispatcher of the configured mode. The host,
/// the test harnesses and the benchmarks all call it; a test or a benchmark then replaces what it must (a fake clock,
/// its own providers, a recording dispatcher) by registering its own afterwards. What runs on its own (the local
/// runner's and the sweeps' hosted services), who may call in, and the idempotency keys are the host's to add.
/// </summary>
public static class MoleculeWorkspacesRegistration
{
    public static IServiceCollection AddMoleculeWorkspaces(this IServiceCollection services, IConfiguration configuration, string connectionString) =>
        services.AddMoleculeWorkspaces(configuration, () => connectionString);

    /// <summary>
    /// As above, the connection string asked for only when the database is first used: the <c>migrate</c> role starts
    /// without one, to answer CloudFormation with the reason.
    /// </summary>
    public static IServiceCollection AddMoleculeWorkspaces(this IServiceCollection services, IConfiguration configuration, Func<string> connectionString)
    {
        var deployment = DeploymentSettings.From(configuration);
        var operations = OperationOptions.From(configuration);
        var delete = DeleteOptions.From(configuration);
        var sweeps = SweepOptions.From(configuration);
        var dispatch = DispatchMode.From(configuration);

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(new DeploymentIdentity(deployment.DeploymentId));
        services.AddSingleton(operations);
        services.AddSingleton(delete);
        services.AddSingleton(sweeps);
        services.AddSingleton(ReconcilerSettings.From(sweeps));

        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString()).Build());
        services.AddSingleton(sp => new DatabaseMigrator(connectionString(), sp.GetRequiredService<ILogger<DatabaseMigrator>>()));
        services.AddSingleton<WorkspaceStore>();
        services.AddSingleton<ClaimStore>();
        services.AddSingleton<OperationStore>();
        services.AddSingleton<EventStore>();
        services.AddSingleton<PendingTerminationStore>();
        services.AddSingleton<TokenStore>();

        services.AddSingleton(sp => new ProviderRegistry(ProviderConfiguration.Build(configuration, sp, deployment.DeploymentId), deployment.DefaultProvider));

        services.AddSingleton<StepContext>();
        services.AddSingleton<StepExecutor>();
        services.AddSingleton<IStepExecutor>(sp => sp.GetRequiredService<StepExecutor>());
        services.AddSingleton<WorkspaceCreator>();
        services.AddSingleton<OperationStarter>();
        services.AddSingleton<OperationCompensation>();
        services.AddSingleton<BatchTerminator>();
        services.AddSingleton<WorkspaceDeleter>();

        // stdout: Lambda ships it to CloudWatch Logs, which turns each EMF line into metrics
        services.TryAddSingleton(sp => new SweepMetricsSink(Console.Out, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<DeploymentIdentity>()));
        services.AddSingleton<OrphanSweeper>();
        services.AddSingleton<ISweep>(sp => sp.GetRequiredService<OrphanSweeper>());
        services.AddSingleton<InstanceReconciler>();
        services.AddSingleton<ISweep>(sp => sp.GetRequiredService<InstanceReconciler>());

        if (dispatch == DispatchMode.Local)
        {
            services.AddSingleton<OperationLeaseStore>();
            services.AddSingleton<LocalOperationRunner>();
            services.AddSingleton<IOperationDispatcher>(sp => sp.GetRequiredService<LocalOperationRunner>());
        }
        else
        {
            var dynamoDb = DynamoDbDispatchOptions.From(configuration);
            services.AddSingleton(dynamoDb);
            services.AddSingleton(_ => DynamoDbClientFactory.CreateClient(dynamoDb));
            services.AddSingleton<IOperationDispatcher, DynamoDbOperationDispatcher>();
        }

        return services;
    }
}
