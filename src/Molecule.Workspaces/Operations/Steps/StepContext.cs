using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;
using Npgsql;

namespace Molecule.Workspaces.Operations.Steps;

/// <summary>What every step needs, in one place so step constructors stay one line.</summary>
public sealed record StepContext(
    NpgsqlDataSource Db,
    ClaimStore Claims,
    OperationStore Operations,
    EventStore Events,
    PendingTerminationStore PendingTerminations,
    ProviderRegistry Providers,
    OperationOptions Options,
    DeploymentIdentity Deployment,
    TimeProvider Time,
    ILogger<OperationStep> Logger);

/// <summary>The deployment's id, the value of every box's <c>molecule:deployment</c> tag.</summary>
public sealed record DeploymentIdentity(string Id);
