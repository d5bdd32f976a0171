using Amazon.EC2;
using Amazon.EC2.Model;
using Microsoft.Extensions.Time.Testing;
using Molecule.Workspaces.Providers;
using NSubstitute;
using static Molecule.Workspaces.Tests.Providers.Ec2.Ec2TestKit;

namespace Molecule.Workspaces.Tests.Providers.Ec2;

public sealed class Ec2CallTimeoutTests
{
    private readonly IAmazonEC2 ec2 = Substitute.For<IAmazonEC2>();
    private readonly FakeTimeProvider time = new(Now);

    public Ec2CallTimeoutTests()
    {
        // Every call hangs until its token is cancelled.
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(async call =>
            {
                await Task.Delay(Timeout.Infinite, call.Arg<CancellationToken>());
                return Page(null);
            });
        ec2.TerminateInstancesAsync(Arg.Any<TerminateInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(async call =>
            {
                await Task.Delay(Timeout.Infinite, call.Arg<CancellationToken>());
                return new TerminateInstancesResponse();
            });
    }

    [Fact]
    public async Task Call_that_outlives_CallTimeout_fails_as_transient()
    {
        var provider = Provider(ec2, time: time);
        var describe = provider.DescribeAsync([Id(1)], default);

        time.Advance(Options().CallTimeout);

        var error = await Assert.ThrowsAsync<ProviderException>(() => describe);
        Assert.Equal(ProviderErrorKind.Transient, error.Kind);
        Assert.Contains("timed out after 10 s", error.Message);
    }

    [Fact]
    public async Task Call_is_not_cut_short_before_CallTimeout()
    {
        var provider = Provider(ec2, time: time);
        var describe = provider.DescribeAsync([Id(1)], default);

        time.Advance(Options().CallTimeout - TimeSpan.FromMilliseconds(1));

        Assert.False(describe.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<ProviderException>(() => describe);
    }

    [Fact]
    public async Task Callers_cancellation_propagates_as_cancellation_not_a_provider_error()
    {
        var provider = Provider(ec2, time: time);
        using var caller = new CancellationTokenSource();
        var describe = provider.DescribeAsync([Id(1)], caller.Token);

        await caller.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => describe);
        Assert.Equal(caller.Token, error.CancellationToken);
    }

    [Fact]
    public async Task Callers_cancellation_during_terminate_is_not_turned_into_failed_results()
    {
        var provider = Provider(ec2, time: time);
        using var caller = new CancellationTokenSource();
        var terminate = provider.TerminateAsync([Id(1)], caller.Token);

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => terminate);
    }

    [Fact]
    public async Task Already_cancelled_caller_makes_no_call()
    {
        var provider = Provider(ec2, time: time);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => provider.ProvisionAsync(new InstanceSpec(null, "ephemeral", null), OperationId, WorkspaceTags(), new CancellationToken(canceled: true)));

        Assert.Empty(ec2.ReceivedCalls());
    }

    [Fact]
    public async Task Timed_out_terminate_reports_failed_results()
    {
        var provider = Provider(ec2, time: time);
        var terminate = provider.TerminateAsync([Id(1), Id(2)], default);

        time.Advance(Options().CallTimeout);

        var results = await terminate;
        Assert.All(results.Values, r => Assert.Contains("timed out", r.Error));
    }
}
