using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Providers.Ec2;
using Molecule.Workspaces.Providers.Sim;
using Npgsql;

namespace Molecule.Workspaces.Providers;

/// <summary>Builds the providers named under <c>Molecule:Providers</c>, each by its <c>Type</c>.</summary>
public static class ProviderConfiguration
{
    public static IReadOnlyList<IComputeProvider> Build(IConfiguration configuration, IServiceProvider services, string deploymentId)
    {
        var providers = new List<IComputeProvider>();
        foreach (var section in configuration.GetSection("Molecule:Providers").GetChildren())
        {
            var type = section["Type"];
            providers.Add(type switch
            {
                SimProvider.ProviderType => new SimProvider(
                    section.Key,
                    section.Get<SimProviderOptions>() ?? new SimProviderOptions(),
                    deploymentId,
                    services.GetRequiredService<NpgsqlDataSource>(),
                    services.GetRequiredService<TimeProvider>()),
                Ec2Provider.ProviderType => BuildEc2(section, services, deploymentId),
                _ => throw new InvalidOperationException($"Molecule:Providers:{section.Key}:Type '{type}' is not a provider type (sim, ec2)"),
            });
        }

        return providers;
    }

    /// <summary>Credentials come from the standard AWS chain (the Lambda role in AWS); nothing secret is in configuration.</summary>
    private static Ec2Provider BuildEc2(IConfigurationSection section, IServiceProvider services, string deploymentId)
    {
        var options = Ec2Options(section);
        var client = services.GetKeyedService<Amazon.EC2.IAmazonEC2>(section.Key) ?? Ec2ClientFactory.CreateClient(options);
        return new Ec2Provider(client, section.Key, options, deploymentId, services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger<Ec2Provider>());
    }

    /// <summary>
    /// The section bound as <see cref="Ec2ProviderOptions"/>; <c>SecurityGroupIds</c> may also be one comma-separated
    /// value, which is how a CloudFormation list parameter reaches a Lambda environment variable.
    /// </summary>
    public static Ec2ProviderOptions Ec2Options(IConfigurationSection section)
    {
        var options = section.Get<Ec2ProviderOptions>() ?? new Ec2ProviderOptions();
        if (section.GetSection(nameof(Ec2ProviderOptions.SecurityGroupIds)).Value is { } joined)
        {
            options.SecurityGroupIds = joined.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        return options;
    }
}
