using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Store;
using Npgsql;

namespace Molecule.Bench;

/// <summary>The library wired as the host wires it, on a scratch database, with real time and the given sim providers.</summary>
internal sealed class BenchStack
{
    public BenchStack(NpgsqlDataSource db, string deployment, OperationOptions options, params SimProvider[] sims)
    {
        var time = TimeProvider.System;
        Providers = new ProviderRegistry(sims, sims[0].Name);
        Operations = new OperationStore(db, time);
        Context = new StepContext(db, new ClaimStore(db, time), Operations, new EventStore(db, time), new PendingTerminationStore(time),
            Providers, options, new DeploymentIdentity(deployment), time, NullLogger<OperationStep>.Instance);
        Runner = new LocalOperationRunner(new StepExecutor(Context), Operations, new OperationLeaseStore(db, time), options, time, NullLogger<LocalOperationRunner>.Instance);
        Starter = new OperationStarter(Context.Claims, new WorkspaceStore(db, time), Operations, Runner, options, time, NullLogger<OperationStarter>.Instance);
        Creator = new WorkspaceCreator(db, new TokenStore(db, time), Context.Events, Runner,
            new IdempotencyTokenSealer([System.Security.Cryptography.RandomNumberGenerator.GetBytes(IdempotencyTokenSealer.KeyBytes)]), options, time, NullLogger<WorkspaceCreator>.Instance);
    }

    public ProviderRegistry Providers { get; }
    public OperationStore Operations { get; }
    public StepContext Context { get; }
    public LocalOperationRunner Runner { get; }
    public OperationStarter Starter { get; }
    public WorkspaceCreator Creator { get; }
}
