using Molecule.Api.Auth;
using Molecule.Workspaces.Hosting;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Sweeps;

namespace Molecule.Api.Hosting;

/// <summary>
/// The host's services: the library as <see cref="MoleculeWorkspacesRegistration.AddMoleculeWorkspaces"/> wires it
/// (every options class bound and validated there), then what depends on the role — which dispatch mode it may use,
/// what runs on its own, who may call in, the idempotency keys, the migrate custom resource.
/// </summary>
public static class ServiceRegistration
{
    public static IServiceCollection AddMolecule(this IServiceCollection services, MoleculeSettings settings, IConfiguration configuration,
        IHostEnvironment environment, PostgresConnection postgres)
    {
        if (postgres.Error is not null && settings.Role != ServiceRoles.Migrate)
        {
            // only the migrate role starts without a database: it must still answer CloudFormation, with this reason
            throw new InvalidOperationException(postgres.Error);
        }

        DispatchRoles.Check(DispatchMode.From(configuration), settings.Role);
        services.AddSingleton(settings);
        services.AddSingleton(postgres);
        services.AddMoleculeWorkspaces(configuration, () => postgres.ConnectionString);

        var migrate = MigrateOptions.From(configuration);
        services.AddSingleton(migrate);
        services.AddSingleton(sp => new CloudFormationResponder(new HttpClient(), migrate.ResponseTimeout, sp.GetRequiredService<TimeProvider>()));
        if (ServiceRoles.ServesApi(settings.Role))
        {
            // only the public API takes bearer tokens; a worker role needs no admin token configured to start
            services.AddSingleton(AdminTokens.FromConfiguration(configuration, environment));
        }

        services.AddSingleton(IdempotencyKeyConfiguration.Build(configuration, environment, settings.Role));

        // in AWS an EventBridge schedule drives each sweep tick (role sweeps, one POST /internal/sweeps/... per tick) and
        // Step Functions walks each operation, so a warm Lambda container never works on its own between invocations:
        // only the local all-in-one process walks operations and ticks the sweeps on timers
        services.AddSingleton<OnDemandSweepTicks>();
        if (ServiceRoles.RunsInProcessWork(settings.Role))
        {
            services.AddHostedService(sp => sp.GetRequiredService<LocalOperationRunner>());
            services.AddHostedService<SweepHostedService>();
        }

        return services;
    }
}
