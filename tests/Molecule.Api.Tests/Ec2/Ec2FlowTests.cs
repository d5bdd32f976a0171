using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Amazon.EC2;
using Amazon.EC2.Model;
using Microsoft.Extensions.DependencyInjection;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;
using NSubstitute;

namespace Molecule.Api.Tests.Ec2;

/// <summary>The whole API flow with an <c>ec2</c> provider (a substituted EC2 client) beside <c>sim-east</c>.</summary>
public sealed class Ec2FlowTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Create_on_ec2_switch_to_sim_and_back_then_delete_leaves_no_box_anywhere()
    {
        var cloud = new FakeEc2Cloud();
        await using var factory = Factory(cloud);
        var client = factory.AdminClient();

        var created = await client.CreateWorkspaceAsync(new { name = "ec2-flow", compute = new { provider = "aws-test" } });
        var id = (string)created["id"]!;
        var onEc2 = await client.WaitForStatusAsync(id, "online");
        var ec2Box = (string)onEc2["instance_id"]!;

        await SwitchAsync(client, id, "sim-east");
        var onSim = await client.WaitForStatusAsync(id, "online");
        await SwitchAsync(client, id, "aws-test");
        var backOnEc2 = await client.WaitForStatusAsync(id, "online");
        using var deleted = await client.DeleteAsync($"/workspaces/{id}");

        Assert.Equal("aws-test", (string?)onEc2["instance_provider"]);
        Assert.Equal("sim-east", (string?)onSim["instance_provider"]);
        Assert.Equal("aws-test", (string?)backOnEc2["instance_provider"]);
        Assert.NotEqual(ec2Box, (string?)backOnEc2["instance_id"]);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Empty(cloud.Running);
        Assert.DoesNotContain(await factory.Sim("sim-east").ListAllAsync(CancellationToken.None),
            b => b.Tags.GetValueOrDefault("molecule:workspace-id") == id);
        // the EC2 boxes were started with the operation id as ClientToken and tagged in the same call
        Assert.All(cloud.Launches, launch =>
        {
            Assert.False(string.IsNullOrEmpty(launch.ClientToken));
            var tags = launch.TagSpecifications.Single(t => t.ResourceType == ResourceType.Instance).Tags.ToDictionary(t => t.Key, t => t.Value);
            Assert.Equal("test", tags["molecule:deployment"]);
            Assert.Equal(id, tags["molecule:workspace-id"]);
        });
    }

    [Fact]
    public async Task Ec2_is_listed_beside_the_sim_providers()
    {
        await using var factory = Factory(new FakeEc2Cloud());

        var providers = (await factory.AdminClient().GetJsonAsync("/providers"))!.AsArray();

        Assert.Contains(providers, p => (string?)p!["name"] == "aws-test" && (string?)p["type"] == "ec2");
        Assert.Contains(providers, p => (string?)p!["name"] == "sim-east" && (string?)p["type"] == "sim");
    }

    private ApiFactory Factory(FakeEc2Cloud cloud) => new(database, new Dictionary<string, string?>
        {
            ["Molecule:Providers:aws-test:Type"] = "ec2",
            ["Molecule:Providers:aws-test:Region"] = "us-east-1",
            ["Molecule:Providers:aws-test:ImageId"] = "ami-0123456789abcdef0",
            ["Molecule:Providers:aws-test:InstanceType"] = "t3.medium",
            ["Molecule:Providers:aws-test:SubnetId"] = "subnet-0abc",
        },
        services => services.AddKeyedSingleton<IAmazonEC2>("aws-test", cloud.Client));

    private static async Task SwitchAsync(HttpClient client, string id, string provider)
    {
        using var response = await client.PostAsJsonAsync($"/workspaces/{id}/switch-provider", new { provider });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var operation = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["operation"]!["id"]!;
        Assert.Equal("succeeded", (string?)(await client.WaitForOperationEndAsync(operation))["state"]);
    }

    /// <summary>Just enough EC2 behind a substitute: idempotent RunInstances, describe by filter, terminate.</summary>
    private sealed class FakeEc2Cloud
    {
        private readonly ConcurrentDictionary<string, string> byToken = new();
        private readonly ConcurrentDictionary<string, int> states = new();
        private readonly ConcurrentQueue<RunInstancesRequest> launches = new();

        public FakeEc2Cloud()
        {
            Client = Substitute.For<IAmazonEC2>();
            Client.RunInstancesAsync(Arg.Any<RunInstancesRequest>(), Arg.Any<CancellationToken>()).Returns(call =>
            {
                var request = call.Arg<RunInstancesRequest>();
                launches.Enqueue(request);
                var id = byToken.GetOrAdd(request.ClientToken, _ => "i-" + Guid.NewGuid().ToString("N")[..17]);
                states.TryAdd(id, 16);
                return new RunInstancesResponse { Reservation = new Reservation { Instances = [new Instance { InstanceId = id, State = new Amazon.EC2.Model.InstanceState { Code = 0 } }] } };
            });
            Client.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>()).Returns(call =>
            {
                var request = call.Arg<DescribeInstancesRequest>();
                var ids = request.Filters?.SingleOrDefault(f => f.Name == "instance-id")?.Values ?? [];
                var found = ids.Where(states.ContainsKey)
                    .Select(id => new Instance { InstanceId = id, State = new Amazon.EC2.Model.InstanceState { Code = states[id] }, LaunchTime = DateTime.UtcNow })
                    .ToList();
                return new DescribeInstancesResponse { Reservations = found.Count == 0 ? null : [new Reservation { Instances = found }] };
            });
            Client.TerminateInstancesAsync(Arg.Any<TerminateInstancesRequest>(), Arg.Any<CancellationToken>()).Returns(call =>
            {
                var ids = call.Arg<TerminateInstancesRequest>().InstanceIds ?? [];
                foreach (var id in ids)
                {
                    states[id] = 48;
                }

                return new TerminateInstancesResponse
                {
                    TerminatingInstances = [.. ids.Select(id => new InstanceStateChange { InstanceId = id, CurrentState = new Amazon.EC2.Model.InstanceState { Code = 32 } })],
                };
            });
        }

        public IAmazonEC2 Client { get; }

        public IReadOnlyList<RunInstancesRequest> Launches => launches.ToList();

        public IReadOnlyList<string> Running => states.Where(s => s.Value != 48).Select(s => s.Key).ToList();
    }
}
