using Amazon.EC2;
using Amazon.EC2.Model;
using NSubstitute;
using static Molecule.Workspaces.Tests.Providers.Ec2.Ec2TestKit;

namespace Molecule.Workspaces.Tests.Providers.Ec2;

public sealed class Ec2TerminateTests
{
    private readonly IAmazonEC2 ec2 = Substitute.For<IAmazonEC2>();

    [Fact]
    public async Task Terminate_of_no_ids_makes_no_call()
    {
        var provider = Provider(ec2);

        var results = await provider.TerminateAsync([], default);

        Assert.Empty(results);
        Assert.Empty(ec2.ReceivedCalls());
    }

    [Fact]
    public async Task Terminate_of_2500_ids_makes_three_calls()
    {
        var ids = Ids(2500);
        var requests = AnswerTerminates(ec2);
        var provider = Provider(ec2);

        var results = await provider.TerminateAsync(ids, default);

        Assert.Equal([1000, 1000, 500], requests.Select(r => r.InstanceIds.Count));
        Assert.Equal(ids.Order(), requests.SelectMany(r => r.InstanceIds).Order());
        Assert.Equal(2500, results.Count);
        Assert.All(results.Values, r => Assert.True(r.Terminated));
    }

    [Fact]
    public async Task Duplicate_ids_are_terminated_once_with_one_result()
    {
        var requests = AnswerTerminates(ec2);
        var provider = Provider(ec2);

        var results = await provider.TerminateAsync([Id(1), Id(1), Id(2)], default);

        Assert.Equal([Id(1), Id(2)], Assert.Single(requests).InstanceIds);
        Assert.Equal(2, results.Count);
    }

    [Fact]
    public async Task Not_found_batch_error_isolates_the_bad_id_and_terminates_the_others()
    {
        var ids = Ids(8);
        var gone = Id(5);
        var requests = AnswerTerminates(ec2, missing: new HashSet<string> { gone });
        var provider = Provider(ec2);

        var results = await provider.TerminateAsync(ids, default);

        Assert.All(ids, id => Assert.True(results[id].Terminated));
        Assert.Contains(requests, r => r.InstanceIds.SequenceEqual([gone]));
        var terminatedInSuccessfulCalls = requests.Where(r => !r.InstanceIds.Contains(gone)).SelectMany(r => r.InstanceIds);
        Assert.Equal(ids.Where(id => id != gone).Order(), terminatedInSuccessfulCalls.Order());
    }

    [Fact]
    public async Task Malformed_id_fails_and_the_others_are_terminated()
    {
        var ids = Ids(6);
        ids.Add("not-an-id");
        AnswerTerminates(ec2, malformed: new HashSet<string> { "not-an-id" });
        var provider = Provider(ec2);

        var results = await provider.TerminateAsync(ids, default);

        Assert.False(results["not-an-id"].Terminated);
        Assert.Contains("InvalidInstanceID.Malformed", results["not-an-id"].Error);
        Assert.All(ids.Where(id => id != "not-an-id"), id => Assert.True(results[id].Terminated));
    }

    [Fact]
    public async Task Ids_that_are_all_gone_all_count_as_terminated()
    {
        var ids = Ids(5);
        var requests = AnswerTerminates(ec2, missing: ids.ToHashSet());
        var provider = Provider(ec2);

        var results = await provider.TerminateAsync(ids, default);

        Assert.All(ids, id => Assert.True(results[id].Terminated));
        Assert.True(requests.Count <= (2 * ids.Count) - 1);
    }

    [Fact]
    public async Task Transient_error_fails_only_the_ids_of_its_chunk()
    {
        var ids = Ids(2500);
        var calls = 0;
        ec2.TerminateInstancesAsync(Arg.Any<TerminateInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                var request = call.Arg<TerminateInstancesRequest>();
                return ++calls == 2
                    ? throw Error("RequestLimitExceeded")
                    : new TerminateInstancesResponse { TerminatingInstances = [.. request.InstanceIds.Select(id => new InstanceStateChange { InstanceId = id })] };
            });
        var provider = Provider(ec2);

        var results = await provider.TerminateAsync(ids, default);

        Assert.All(ids.Take(1000).Concat(ids.Skip(2000)), id => Assert.True(results[id].Terminated));
        Assert.All(ids.Skip(1000).Take(1000), id =>
        {
            Assert.False(results[id].Terminated);
            Assert.Contains("RequestLimitExceeded", results[id].Error);
        });
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task Terminal_error_fails_each_id_without_throwing_or_splitting()
    {
        ec2.TerminateInstancesAsync(Arg.Any<TerminateInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns<TerminateInstancesResponse>(_ => throw Error("UnauthorizedOperation"));
        var provider = Provider(ec2);

        var results = await provider.TerminateAsync(Ids(4), default);

        Assert.Equal(4, results.Count);
        Assert.All(results.Values, r => Assert.Contains("UnauthorizedOperation", r.Error));
        await ec2.Received(1).TerminateInstancesAsync(Arg.Any<TerminateInstancesRequest>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Id_missing_from_the_answer_is_failed_not_terminated()
    {
        ec2.TerminateInstancesAsync(Arg.Any<TerminateInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(new TerminateInstancesResponse { TerminatingInstances = [new InstanceStateChange { InstanceId = Id(1) }] });
        var provider = Provider(ec2);

        var results = await provider.TerminateAsync([Id(1), Id(2)], default);

        Assert.True(results[Id(1)].Terminated);
        Assert.False(results[Id(2)].Terminated);
        Assert.NotNull(results[Id(2)].Error);
    }
}
