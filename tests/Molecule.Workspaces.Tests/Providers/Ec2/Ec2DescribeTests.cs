using Amazon.EC2;
using Amazon.EC2.Model;
using Molecule.Workspaces.Providers;
using NSubstitute;
using static Molecule.Workspaces.Tests.Providers.Ec2.Ec2TestKit;
using InstanceState = Molecule.Workspaces.Providers.InstanceState;

namespace Molecule.Workspaces.Tests.Providers.Ec2;

public sealed class Ec2DescribeTests
{
    private readonly IAmazonEC2 ec2 = Substitute.For<IAmazonEC2>();

    [Fact]
    public async Task Describe_of_no_ids_makes_no_call()
    {
        var provider = Provider(ec2);

        var states = await provider.DescribeAsync([], default);

        Assert.Empty(states);
        Assert.Empty(ec2.ReceivedCalls());
    }

    [Fact]
    public async Task Describe_asks_by_instance_id_filter_not_by_InstanceIds()
    {
        var requests = AnswerDescribes(ec2, new Dictionary<string, int> { [Id(1)] = 16 });
        var provider = Provider(ec2);

        await provider.DescribeAsync([Id(1), Id(2)], default);

        var request = Assert.Single(requests);
        Assert.Null(request.InstanceIds);
        Assert.Equal([Id(1), Id(2)], FilterValues(request, "instance-id"));
    }

    [Fact]
    public async Task Describe_of_2500_ids_makes_three_calls()
    {
        var ids = Ids(2500);
        var requests = AnswerDescribes(ec2, ids.ToDictionary(id => id, _ => 16));
        var provider = Provider(ec2);

        var states = await provider.DescribeAsync(ids, default);

        Assert.Equal([1000, 1000, 500], requests.Select(r => FilterValues(r, "instance-id").Count));
        Assert.Equal(ids.Order(), requests.SelectMany(r => FilterValues(r, "instance-id")).Order());
        Assert.Equal(2500, states.Count);
        Assert.All(states.Values, s => Assert.Equal(InstanceState.Running, s));
    }

    [Fact]
    public async Task Duplicate_ids_are_asked_for_once()
    {
        var requests = AnswerDescribes(ec2, new Dictionary<string, int> { [Id(1)] = 16 });
        var provider = Provider(ec2);

        var states = await provider.DescribeAsync([Id(1), Id(1), Id(2), Id(1)], default);

        Assert.Equal([Id(1), Id(2)], FilterValues(Assert.Single(requests), "instance-id"));
        Assert.Equal(2, states.Count);
    }

    [Fact]
    public async Task Ids_missing_from_the_answer_are_not_found()
    {
        AnswerDescribes(ec2, new Dictionary<string, int> { [Id(1)] = 16, [Id(3)] = 80 });
        var provider = Provider(ec2);

        var states = await provider.DescribeAsync([Id(1), Id(2), Id(3)], default);

        Assert.Equal(InstanceState.Running, states[Id(1)]);
        Assert.Equal(InstanceState.NotFound, states[Id(2)]);
        Assert.Equal(InstanceState.Stopped, states[Id(3)]);
    }

    [Fact]
    public async Task Answer_without_reservations_or_instances_means_not_found()
    {
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(
                new DescribeInstancesResponse { Reservations = null },
                new DescribeInstancesResponse { Reservations = [new Reservation { Instances = null }] });
        var provider = Provider(ec2);

        var first = await provider.DescribeAsync([Id(1)], default);
        var second = await provider.DescribeAsync([Id(1)], default);

        Assert.Equal(InstanceState.NotFound, first[Id(1)]);
        Assert.Equal(InstanceState.NotFound, second[Id(1)]);
    }

    [Fact]
    public async Task Describe_follows_NextToken_to_the_last_page()
    {
        var requests = new List<DescribeInstancesRequest>();
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                var request = call.Arg<DescribeInstancesRequest>();
                requests.Add(request);
                return request.NextToken switch
                {
                    null => Page("page-2", Box(Id(1), 16)),
                    "page-2" => Page("page-3", Box(Id(2), 64)),
                    _ => Page(null, Box(Id(3), 0)),
                };
            });
        var provider = Provider(ec2);

        var states = await provider.DescribeAsync([Id(1), Id(2), Id(3)], default);

        Assert.Equal([null, "page-2", "page-3"], requests.Select(r => r.NextToken));
        Assert.All(requests, r => Assert.Equal([Id(1), Id(2), Id(3)], FilterValues(r, "instance-id")));
        Assert.Equal(InstanceState.Running, states[Id(1)]);
        Assert.Equal(InstanceState.Stopping, states[Id(2)]);
        Assert.Equal(InstanceState.Pending, states[Id(3)]);
    }

    [Fact]
    public async Task Same_NextToken_twice_is_transient_instead_of_a_loop()
    {
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(Page("stuck", Box(Id(1), 16)));
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.DescribeAsync([Id(1)], default));

        Assert.Equal(ProviderErrorKind.Transient, error.Kind);
        await ec2.Received(2).DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData(0, InstanceState.Pending)]
    [InlineData(16, InstanceState.Running)]
    [InlineData(32, InstanceState.ShuttingDown)]
    [InlineData(48, InstanceState.Terminated)]
    [InlineData(64, InstanceState.Stopping)]
    [InlineData(80, InstanceState.Stopped)]
    [InlineData(272, InstanceState.Running)]
    [InlineData(256 | 512 | 80, InstanceState.Stopped)]
    public async Task State_comes_from_the_low_byte_of_the_code(int code, InstanceState expected)
    {
        AnswerDescribes(ec2, new Dictionary<string, int> { [Id(1)] = code });
        var provider = Provider(ec2);

        var states = await provider.DescribeAsync([Id(1)], default);

        Assert.Equal(expected, states[Id(1)]);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(96)]
    [InlineData(255)]
    public async Task Unknown_state_code_is_transient_never_a_guess(int code)
    {
        AnswerDescribes(ec2, new Dictionary<string, int> { [Id(1)] = code, [Id(2)] = 16 });
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.DescribeAsync([Id(1), Id(2)], default));

        Assert.Equal(ProviderErrorKind.Transient, error.Kind);
        Assert.Contains(Id(1), error.Message);
    }

    [Fact]
    public async Task Instance_without_a_state_is_transient()
    {
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(Page(null, new Instance { InstanceId = Id(1), State = null }));
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.DescribeAsync([Id(1)], default));

        Assert.Equal(ProviderErrorKind.Transient, error.Kind);
    }

    [Fact]
    public async Task Unknown_error_code_is_transient_never_not_running()
    {
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns<DescribeInstancesResponse>(_ => throw Error("Brand.NewErrorCode"));
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.DescribeAsync([Id(1)], default));

        Assert.Equal(ProviderErrorKind.Transient, error.Kind);
        Assert.True(error.IsRetryable);
        Assert.Contains("Brand.NewErrorCode", error.Message);
    }

    [Fact]
    public async Task One_failed_chunk_fails_the_whole_answer()
    {
        var ids = Ids(1500);
        var calls = 0;
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(_ => ++calls == 2 ? throw Error("RequestLimitExceeded") : Page(null));
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.DescribeAsync(ids, default));

        Assert.Equal(ProviderErrorKind.Transient, error.Kind);
        Assert.Equal(2, calls);
    }
}
