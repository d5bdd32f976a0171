using Amazon.DynamoDBv2;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.DynamoDb;
using Molecule.Workspaces.Store;

namespace Molecule.Api.Hosting;

/// <summary>
/// <c>Molecule:Dispatch:Mode</c>: who walks a committed operation. <c>local</c>: the in-process runner, which runs only
/// in role <c>all</c>; <c>dynamodb</c>: the dispatch table → stream → Pipe → state machine (DESIGN §5.4).
/// </summary>
public static class DispatchRegistration
{
    public const string Local = "local";
    public const string DynamoDb = "dynamodb";

    public static IServiceCollection AddMoleculeDispatch(this IServiceCollection services, IConfiguration configuration, MoleculeSettings settings)
    {
        var mode = configuration["Molecule:Dispatch:Mode"] ?? Local;
        switch (mode)
        {
            case Local:
                if (ServiceRoles.HandsOffOperations(settings.Role) && !ServiceRoles.RunsInProcessWork(settings.Role))
                {
                    // nothing in this process would ever walk what it hands off
                    throw new InvalidOperationException(
                        $"Molecule:Dispatch:Mode '{Local}' walks operations in-process, which only Molecule:Role '{ServiceRoles.All}' does; " +
                        $"role '{settings.Role}' needs Molecule:Dispatch:Mode '{DynamoDb}'");
                }

                services.AddSingleton<OperationLeaseStore>();
                services.AddSingleton<LocalOperationRunner>();
                services.AddSingleton<IOperationDispatcher>(sp => sp.GetRequiredService<LocalOperationRunner>());
                if (ServiceRoles.RunsInProcessWork(settings.Role))
                {
                    services.AddHostedService(sp => sp.GetRequiredService<LocalOperationRunner>());
                }

                break;
            case DynamoDb:
                var options = (configuration.GetSection(DynamoDbDispatchOptions.SectionName).Get<DynamoDbDispatchOptions>()
                    ?? new DynamoDbDispatchOptions()).Validate();
                services.AddSingleton(options);
                services.AddSingleton(_ => DynamoDbClientFactory.CreateClient(options));
                services.AddSingleton<IOperationDispatcher, DynamoDbOperationDispatcher>();
                break;
            default:
                throw new InvalidOperationException($"Molecule:Dispatch:Mode '{mode}' is not a mode; use '{Local}' or '{DynamoDb}'");
        }

        return services;
    }
}
