using Amazon.EC2;
using Amazon.EC2.Model;
using Microsoft.Extensions.Time.Testing;
using Molecule.Workspaces.Providers;
using NSubstitute;
using static Molecule.Workspaces.Tests.Providers.Ec2.Ec2TestKit;
using InstanceState = Molecule.Workspaces.Providers.InstanceState;

namespace Molecule.Workspaces.Tests.Providers.Ec2;

public sealed class Ec2ListManagedTests
{
    private readonly IAmazonEC2 ec2 = Substitute.For<IAmazonEC2>();
    private readonly List<DescribeInstancesRequest> requests = [];

    private void AnswerPages(params DescribeInstancesResponse[] pages) =>
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                requests.Add(call.Arg<DescribeInstancesRequest>());
                return pages[requests.Count - 1];
            });

    [Fact]
    public async Task List_filters_by_the_deployment_tag_and_every_state_but_terminated()
    {
        AnswerPages(Page(null));
        var provider = Provider(ec2);

        await provider.ListManagedAsync(null, default);

        var request = Assert.Single(requests);
        Assert.Null(request.InstanceIds);
        Assert.Equal([DeploymentId], FilterValues(request, "tag:molecule:deployment"));
        Assert.Equal(
            ["pending", "running", "shutting-down", "stopped", "stopping"],
            FilterValues(request, "instance-state-name").Order());
    }

    [Fact]
    public async Task List_returns_one_page_and_its_NextToken_and_asks_for_the_next_page_with_it()
    {
        AnswerPages(
            Page("p2", Box(Id(1), 16, DateTime.UtcNow)),
            Page("p3"),
            Page(null, Box(Id(2), 80, DateTime.UtcNow), Box(Id(3), 0, DateTime.UtcNow)));
        var provider = Provider(ec2);

        var first = await provider.ListManagedAsync(null, default);
        var second = await provider.ListManagedAsync(first.NextPageToken, default);
        var third = await provider.ListManagedAsync(second.NextPageToken, default);

        Assert.Equal([null, "p2", "p3"], requests.Select(r => r.NextToken));
        Assert.All(requests, r => Assert.Equal(1000, r.MaxResults));
        Assert.Equal(["p2", "p3", null], new[] { first, second, third }.Select(p => p.NextPageToken));
        var instances = first.Instances.Concat(second.Instances).Concat(third.Instances).ToList();
        Assert.Equal([Id(1), Id(2), Id(3)], instances.Select(i => i.InstanceId));
        Assert.Equal([InstanceState.Running, InstanceState.Stopped, InstanceState.Pending], instances.Select(i => i.State));
    }

    [Fact]
    public async Task A_page_token_EC2_refuses_is_a_terminal_error()
    {
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns<DescribeInstancesResponse>(_ => throw Error("InvalidPaginationToken", System.Net.HttpStatusCode.BadRequest));
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.ListManagedAsync("stale", default));

        Assert.Equal(ProviderErrorKind.Terminal, error.Kind);
    }

    [Fact]
    public async Task List_reports_launch_time_in_utc_and_the_tags()
    {
        var launched = new DateTime(2025, 11, 1, 8, 30, 0, DateTimeKind.Utc);
        AnswerPages(Page(null, Box(Id(1), 16, launched, (ProviderTags.Deployment, DeploymentId), (ProviderTags.WorkspaceId, "ws-1"))));
        var provider = Provider(ec2);

        var instance = Assert.Single((await provider.ListManagedAsync(null, default)).Instances);

        Assert.Equal(new DateTimeOffset(launched), instance.LaunchedAt);
        Assert.Equal(TimeSpan.Zero, instance.LaunchedAt.Offset);
        Assert.Equal("ws-1", instance.Tags[ProviderTags.WorkspaceId]);
        Assert.Equal(DeploymentId, instance.Tags[ProviderTags.Deployment]);
    }

    [Fact]
    public async Task Instance_without_a_launch_time_counts_as_launched_now()
    {
        AnswerPages(Page(null, Box(Id(1), 0, launchTime: null)));
        var provider = Provider(ec2, time: new FakeTimeProvider(Now));

        var instance = Assert.Single((await provider.ListManagedAsync(null, default)).Instances);

        Assert.Equal(Now, instance.LaunchedAt);
        Assert.Empty(instance.Tags);
    }

    [Fact]
    public async Task Terminated_instance_in_the_answer_is_left_out()
    {
        AnswerPages(Page(null, Box(Id(1), 48, DateTime.UtcNow), Box(Id(2), 16, DateTime.UtcNow)));
        var provider = Provider(ec2);

        var instances = (await provider.ListManagedAsync(null, default)).Instances;

        Assert.Equal([Id(2)], instances.Select(i => i.InstanceId));
    }

    [Fact]
    public async Task List_with_nothing_tagged_is_empty()
    {
        AnswerPages(new DescribeInstancesResponse { Reservations = null });
        var provider = Provider(ec2);

        var instances = (await provider.ListManagedAsync(null, default)).Instances;

        Assert.Empty(instances);
    }

    [Fact]
    public async Task List_failure_throws_instead_of_answering_empty()
    {
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns<DescribeInstancesResponse>(_ => throw Error("Unavailable", System.Net.HttpStatusCode.ServiceUnavailable));
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.ListManagedAsync(null, default));

        Assert.Equal(ProviderErrorKind.Transient, error.Kind);
    }
}
