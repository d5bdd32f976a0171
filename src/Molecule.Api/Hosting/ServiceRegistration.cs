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
    public static IServiceCollection AddMolecule(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var settings = (configuration.GetSection("Molecule").Get<MoleculeSettings>() ?? new MoleculeSettings()).Validate();
        var connectionString = configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set (infra/dev.sh run sets it for you)");

        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new DeploymentIdentity(settings.DeploymentId));
        services.AddSingleton(configuration.GetSection("Molecule:Operations").Get<OperationOptions>() ?? new OperationOptions());
        services.AddSingleton(AdminTokens.FromConfiguration(configuration, environment));
        services.AddSingleton(IdempotencyKeyConfiguration.Build(configuration, environment, settings.Role));

        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
        services.AddSingleton(sp => new DatabaseMigrator(connectionString, sp.GetRequiredService<ILogger<DatabaseMigrator>>()));
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
        services.AddSingleton<WorkspaceDeleter>();

        services.AddMoleculeDispatch(configuration, settings);
        services.AddMoleculeSweeps(configuration, settings);
        return services;
    }
}
