using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Workers;

/// <summary>
/// The two walkers of the equivalence test, each on its own database: the real app in role <c>steps</c> on a real
/// loopback Kestrel port (what the state machine's Tasks reach through the Lambda Web Adapter), and the local runner
/// on the library wired as the host wires it (fake clock). Each walker goes through a <see cref="ScriptedStepExecutor"/>
/// so both see the same injected faults. Simulated clouds answer at once and boot at once on both sides, so no
/// outcome depends on how long anything took.
/// </summary>
public sealed class AslEquivalenceFixture : IAsyncLifetime
{
    private readonly TestDatabase aslDatabase = new();
    private readonly TestDatabase localDatabase = new();
    private ApiFactory? stepsHost;

    /// <summary>The state machine's side: the steps host's database, providers and steps.</summary>
    public ScenarioSide Asl { get; private set; } = null!;

    /// <summary>The local runner's side.</summary>
    public ScenarioSide Local { get; private set; } = null!;

    /// <summary><c>http://127.0.0.1:PORT/internal/steps</c> of the steps host.</summary>
    public string StepEndpoint { get; private set; } = "";

    public OperationHarness Harness { get; private set; } = null!;

    public LocalOperationRunner Runner { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await aslDatabase.InitializeAsync();
        await localDatabase.InitializeAsync();

        var settings = new Dictionary<string, string?> { ["Molecule:Role"] = "steps" };
        foreach (var sim in new[] { "sim-east", "sim-west" })
        {
            settings[$"Molecule:Providers:{sim}:BootSeconds"] = "0";
            settings[$"Molecule:Providers:{sim}:DescribeLagSeconds"] = "0";
        }

        stepsHost = new ApiFactory(aslDatabase, settings, services =>
        {
            services.AddSingleton(sp => new ScriptedStepExecutor(sp.GetRequiredService<StepExecutor>()));
            services.AddSingleton<IStepExecutor>(sp => sp.GetRequiredService<ScriptedStepExecutor>());
        });
        stepsHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        stepsHost.StartServer();
        var address = stepsHost.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        StepEndpoint = $"{address.TrimEnd('/')}/internal/steps";
        Asl = ScenarioSide.From(aslDatabase, stepsHost.Services);

        Harness = new OperationHarness(localDatabase);
        var scripted = new ScriptedStepExecutor(Harness.Executor);
        Runner = new LocalOperationRunner(scripted, Harness.Operations, Harness.Leases, Harness.Options, Harness.Time, NullLogger<LocalOperationRunner>.Instance);
        Local = new ScenarioSide(localDatabase, Harness.Creator, Harness.Starter, Harness.Workspaces, Harness.Providers, Harness.Executor, scripted);
    }

    public async Task DisposeAsync()
    {
        if (stepsHost is not null)
        {
            await stepsHost.DisposeAsync();
        }

        await aslDatabase.DisposeAsync();
        await localDatabase.DisposeAsync();
    }
}
