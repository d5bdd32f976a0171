using Microsoft.Extensions.DependencyInjection.Extensions;
using Molecule.Workspaces.Sweeps;

namespace Molecule.Api.Hosting;

/// <summary>The background sweeps of DESIGN §7: their options, the sweeps themselves, their metrics line and their scheduler.</summary>
public static class SweepRegistration
{
    public static IServiceCollection AddMoleculeSweeps(this IServiceCollection services, IConfiguration configuration, MoleculeSettings settings)
    {
        var options = (configuration.GetSection(SweepOptions.SectionName).Get<SweepOptions>() ?? new SweepOptions()).Validate();
        services.AddSingleton(options);

        // stdout: Lambda ships it to CloudWatch Logs, which turns each EMF line into metrics
        services.TryAddSingleton(sp => new SweepMetricsSink(Console.Out, sp.GetRequiredService<TimeProvider>()));

        services.AddSingleton<OrphanSweeper>();
        services.AddSingleton<ISweep>(sp => sp.GetRequiredService<OrphanSweeper>());
        services.AddSingleton(ReconcilerSettings.From(options));
        services.AddSingleton<InstanceReconciler>();
        services.AddSingleton<ISweep>(sp => sp.GetRequiredService<InstanceReconciler>());

        // the sweeps are registered in every role; only the local all-in-one process ticks them on timers. In AWS an
        // EventBridge schedule drives each tick (role sweeps, one POST /internal/sweeps/... per tick), so a warm
        // Lambda container never sweeps on its own between invocations
        services.AddSingleton<OnDemandSweepTicks>();
        if (ServiceRoles.RunsInProcessWork(settings.Role))
        {
            services.AddHostedService<SweepHostedService>();
        }

        return services;
    }
}
