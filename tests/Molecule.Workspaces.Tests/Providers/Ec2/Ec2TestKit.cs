using System.Net;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Ec2;
using NSubstitute;
using Ec2State = Amazon.EC2.Model.InstanceState;

namespace Molecule.Workspaces.Tests.Providers.Ec2;

/// <summary>Builders shared by the EC2 provider tests: a provider around a substituted client, instances, errors.</summary>
internal static class Ec2TestKit
{
    public const string ProviderName = "aws-test";
    public const string DeploymentId = "dep-test";
    public const string OperationId = "3f2b8c1e-7d4a-4e2b-9c3d-5a6b7c8d9e0f";

    public static readonly DateTimeOffset Now = new(2025, 11, 23, 12, 0, 0, TimeSpan.Zero);

    public static Ec2ProviderOptions Options() => new()
    {
        Region = "us-east-1",
        ImageId = "ami-0123456789abcdef0",
        InstanceType = "t3.medium",
        AllowedInstanceTypes = ["t3.large", "m7i.xlarge"],
        SubnetId = "subnet-0abc",
        SecurityGroupIds = ["sg-01", "sg-02"],
        IamInstanceProfile = "molecule-box",
        KeyName = "ops",
        UserData = "#!/bin/sh\necho {workspace_id} {operation_id} {deployment} {provider}\n",
        Tags = new() { ["team"] = "platform" },
    };

    public static Ec2Provider Provider(IAmazonEC2 ec2, Ec2ProviderOptions? options = null, TimeProvider? time = null) =>
        new(ec2, ProviderName, options ?? Options(), DeploymentId, time ?? new FakeTimeProvider(Now), NullLogger.Instance);

    public static Dictionary<string, string> WorkspaceTags(string workspaceId = "ws-1") => new()
    {
        [ProviderTags.WorkspaceId] = workspaceId,
        [ProviderTags.OperationId] = OperationId,
    };

    public static string Id(int n) => $"i-{n:x17}";

    public static List<string> Ids(int count) => [.. Enumerable.Range(1, count).Select(Id)];

    public static Instance Box(string id, int stateCode, DateTime? launchTime = null, params (string Key, string Value)[] tags) => new()
    {
        InstanceId = id,
        State = new Ec2State { Code = stateCode },
        LaunchTime = launchTime,
        Tags = tags.Length == 0 ? null : [.. tags.Select(t => new Tag(t.Key, t.Value))],
    };

    public static DescribeInstancesResponse Page(string? nextToken, params Instance[] instances) => new()
    {
        Reservations = instances.Length == 0 ? null : [new Reservation { Instances = [.. instances] }],
        NextToken = nextToken,
    };

    public static AmazonEC2Exception Error(string? code, HttpStatusCode status = HttpStatusCode.BadRequest, string message = "from the fake") =>
        new(message, ErrorType.Sender, code, "req-1", status);

    /// <summary>The values of the named filter of a request.</summary>
    public static List<string> FilterValues(DescribeInstancesRequest request, string name) =>
        request.Filters?.SingleOrDefault(f => f.Name == name)?.Values ?? [];

    /// <summary>Answers every DescribeInstances with the requested ids that <paramref name="codes"/> knows, in one page.</summary>
    public static List<DescribeInstancesRequest> AnswerDescribes(IAmazonEC2 ec2, IReadOnlyDictionary<string, int> codes)
    {
        var requests = new List<DescribeInstancesRequest>();
        ec2.DescribeInstancesAsync(Arg.Any<DescribeInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                var request = call.Arg<DescribeInstancesRequest>();
                requests.Add(request);
                var known = FilterValues(request, "instance-id").Where(codes.ContainsKey).Select(id => Box(id, codes[id]));
                return Page(null, [.. known]);
            });
        return requests;
    }

    /// <summary>Answers every TerminateInstances: ids in <paramref name="missing"/> fail the whole batch as EC2 does.</summary>
    public static List<TerminateInstancesRequest> AnswerTerminates(IAmazonEC2 ec2, IReadOnlySet<string>? missing = null, IReadOnlySet<string>? malformed = null)
    {
        var requests = new List<TerminateInstancesRequest>();
        ec2.TerminateInstancesAsync(Arg.Any<TerminateInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                var request = call.Arg<TerminateInstancesRequest>();
                requests.Add(request);
                var ids = request.InstanceIds ?? [];
                if (ids.Any(id => malformed?.Contains(id) == true))
                {
                    throw Error("InvalidInstanceID.Malformed", message: "Invalid id");
                }

                if (ids.Any(id => missing?.Contains(id) == true))
                {
                    throw Error("InvalidInstanceID.NotFound", message: "The instance IDs do not exist");
                }

                return new TerminateInstancesResponse
                {
                    TerminatingInstances = [.. ids.Select(id => new InstanceStateChange { InstanceId = id, CurrentState = new Ec2State { Code = 32 } })],
                };
            });
        return requests;
    }
}
