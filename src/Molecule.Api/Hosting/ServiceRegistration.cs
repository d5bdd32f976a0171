using Molecule.Api.Auth;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Npgsql;

namespace Molecule.Api.Hosting;

/// <summary>Everything the host needs, registered from configuration in one readable list.</summary>
public static class ServiceRegistration
{
    public static IServiceCollection AddMolecule(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment,
        PostgresConnection postgres)
    {
        var settings = MoleculeSettings.From(configuration);
        if (postgres.Error is not null && settings.Role != ServiceRoles.Migrate)
        {
            // only the migrate role starts without a database: it must still answer CloudFormation, with this reason
            throw new InvalidOperationException(postgres.Error);
        }

        services.AddSingleton(settings);
        services.AddSingleton(postgres);
        var migrate = MigrateOptions.From(configuration);
        services.AddSingleton(migrate);
        services.AddSingleton(sp => new CloudFormationResponder(new HttpClient(), migrate.ResponseTimeout, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new DeploymentIdentity(settings.DeploymentId));
        services.AddSingleton(configuration.GetSection("Molecule:Operations").Get<OperationOptions>() ?? new OperationOptions());
        if (ServiceRoles.ServesApi(settings.Role))
        {
            // only the public API takes bearer tokens; a worker role needs no admin token configured to start
            services.AddSingleton(AdminTokens.FromConfiguration(configuration, environment));
        }

        services.AddSingleton(IdempotencyKeyConfiguration.Build(configuration, environment, settings.Role));

        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(postgres.ConnectionString).Build());
        services.AddSingleton(sp => new DatabaseMigrator(postgres.ConnectionString, sp.GetRequiredService<ILogger<DatabaseMigrator>>()));
        services.AddSingleton<WorkspaceStore>();
        services.AddSingleton<ClaimStore>();
        services.AddSingleton<OperationStore>();
        services.AddSingleton<EventStore>();
        services.AddSingleton<PendingTerminationStore>();
        services.AddSingleton<TokenStore>();

        services.AddSingleton(sp => new ProviderRegistry(
            ProviderConfiguration.Build(configuration, sp, settings.DeploymentId), settings.DefaultProvider));

        services.AddSingleton<StepContext>();
        services.AddSingleton<StepExecutor>();
        services.AddSingleton<IStepExecutor>(sp => sp.GetRequiredService<StepExecutor>());
        services.AddSingleton<WorkspaceCreator>();
        services.AddSingleton<OperationStarter>();
        services.AddSingleton<OperationCompensation>();
        services.AddSingleton<BatchTerminator>();
        services.AddSingleton((configuration.GetSection(DeleteOptions.SectionName).Get<DeleteOptions>() ?? new DeleteOptions()).Validate());
        services.AddSingleton<WorkspaceDeleter>();

        services.AddMoleculeDispatch(configuration, settings);
        services.AddMoleculeSweeps(configuration, settings);
        return services;
    }
}
