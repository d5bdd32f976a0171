using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Npgsql;

namespace Molecule.Workspaces.Tests.Providers.Sim;

/// <summary>
/// The simulated cloud keeps its boxes in Postgres. When that store fails (a failover, a restart), every call fails
/// the way a cloud's 5xx does — a transient provider error — so callers retry or queue instead of failing as if their
/// own database had broken.
/// </summary>
public sealed class SimStoreFailureTests : IAsyncLifetime
{
    // nothing listens on port 1: every connection attempt is refused at once
    private readonly NpgsqlDataSource unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=postgres;Timeout=2;Pooling=false");

    private SimProvider Sim => new("sim-east", new SimProviderOptions { LatencyMs = 0 }, "test", unreachable, TimeProvider.System);

    [Fact]
    public async Task Terminate_over_a_failing_store_is_a_transient_provider_error()
    {
        var error = await Assert.ThrowsAsync<ProviderException>(() => Sim.TerminateAsync(["i-0123"], CancellationToken.None));

        Assert.Equal(ProviderErrorKind.Transient, error.Kind);
        Assert.IsAssignableFrom<NpgsqlException>(error.InnerException);
    }

    [Fact]
    public async Task Describe_provision_and_list_over_a_failing_store_are_transient_provider_errors()
    {
        var describe = await Assert.ThrowsAsync<ProviderException>(() => Sim.DescribeAsync(["i-0123"], CancellationToken.None));
        var provision = await Assert.ThrowsAsync<ProviderException>(() =>
            Sim.ProvisionAsync(new InstanceSpec(null, "ephemeral", null), Guid.NewGuid().ToString(), new Dictionary<string, string>(), CancellationToken.None));
        var list = await Assert.ThrowsAsync<ProviderException>(() => Sim.ListManagedAsync(null, CancellationToken.None));

        Assert.All([describe, provision, list], e => Assert.Equal(ProviderErrorKind.Transient, e.Kind));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await unreachable.DisposeAsync();
}
