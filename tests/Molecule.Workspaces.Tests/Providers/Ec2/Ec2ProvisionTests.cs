using System.Net;
using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;
using Molecule.Workspaces.Providers;
using NSubstitute;
using static Molecule.Workspaces.Tests.Providers.Ec2.Ec2TestKit;

namespace Molecule.Workspaces.Tests.Providers.Ec2;

public sealed class Ec2ProvisionTests
{
    private static readonly InstanceSpec DefaultSpec = new(null, "ephemeral", null);

    private readonly IAmazonEC2 ec2 = Substitute.For<IAmazonEC2>();
    private readonly List<RunInstancesRequest> runs = [];
    private readonly List<DescribeImagesRequest> imageLookups = [];

    public Ec2ProvisionTests()
    {
        ec2.RunInstancesAsync(Arg.Any<RunInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                runs.Add(call.Arg<RunInstancesRequest>());
                return new RunInstancesResponse { Reservation = new Reservation { Instances = [Box("i-0new", 0)] } };
            });
        ec2.DescribeImagesAsync(Arg.Any<DescribeImagesRequest>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                imageLookups.Add(call.Arg<DescribeImagesRequest>());
                return new DescribeImagesResponse { Images = [new Image { ImageId = Options().ImageId, RootDeviceName = "/dev/xvda" }] };
            });
    }

    [Fact]
    public async Task Provision_returns_the_instance_id_of_one_RunInstances_call()
    {
        var provider = Provider(ec2);

        var instanceId = await provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags(), default);

        Assert.Equal("i-0new", instanceId);
        var run = Assert.Single(runs);
        Assert.Equal(1, run.MinCount);
        Assert.Equal(1, run.MaxCount);
        Assert.Equal("ami-0123456789abcdef0", run.ImageId);
    }

    [Fact]
    public async Task Client_token_is_the_operation_id_with_a_prefix()
    {
        var provider = Provider(ec2);

        await provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags(), default);

        Assert.Equal($"molecule-{OperationId}", runs[0].ClientToken);
    }

    [Fact]
    public async Task Retried_provision_sends_the_same_client_token_and_parameters()
    {
        var provider = Provider(ec2);

        await provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags(), default);
        await provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags(), default);

        Assert.Equal(2, runs.Count);
        Assert.Equal(runs[0].ClientToken, runs[1].ClientToken);
        Assert.Equal(runs[0].UserData, runs[1].UserData);
        Assert.Equal(runs[0].InstanceType, runs[1].InstanceType);
    }

    [Theory]
    [InlineData(60)]
    [InlineData(200)]
    public async Task Token_too_long_for_EC2_is_hashed_to_64_characters_deterministically(int length)
    {
        var provider = Provider(ec2);
        var token = new string('x', length);

        await provider.ProvisionAsync(DefaultSpec, token, WorkspaceTags(), default);
        await provider.ProvisionAsync(DefaultSpec, token, WorkspaceTags(), default);

        Assert.Equal(64, runs[0].ClientToken.Length);
        Assert.StartsWith("molecule-", runs[0].ClientToken);
        Assert.Equal(runs[0].ClientToken, runs[1].ClientToken);
    }

    [Fact]
    public async Task Instance_and_volume_are_tagged_in_the_RunInstances_call()
    {
        var provider = Provider(ec2);

        await provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags("ws-42"), default);

        var specs = runs[0].TagSpecifications;
        Assert.Equal(["instance", "volume"], specs.Select(s => s.ResourceType.Value).Order());
        foreach (var spec in specs)
        {
            var tags = spec.Tags.ToDictionary(t => t.Key, t => t.Value);
            Assert.Equal(DeploymentId, tags[ProviderTags.Deployment]);
            Assert.Equal("ws-42", tags[ProviderTags.WorkspaceId]);
            Assert.Equal(OperationId, tags[ProviderTags.OperationId]);
            Assert.Equal("molecule-ws-42", tags[ProviderTags.Name]);
            Assert.Equal("platform", tags["team"]);
        }
    }

    [Fact]
    public async Task Caller_tags_cannot_replace_the_deployment_tag()
    {
        var provider = Provider(ec2);
        var tags = WorkspaceTags();
        tags[ProviderTags.Deployment] = "someone-else";

        await provider.ProvisionAsync(DefaultSpec, OperationId, tags, default);

        var instanceTags = runs[0].TagSpecifications.Single(s => s.ResourceType == ResourceType.Instance).Tags;
        Assert.Equal(DeploymentId, Assert.Single(instanceTags, t => t.Key == ProviderTags.Deployment).Value);
    }

    [Theory]
    [InlineData(null, "t3.medium")]
    [InlineData("t3.medium", "t3.medium")]
    [InlineData("t3.large", "t3.large")]
    [InlineData("M7I.XLARGE", "m7i.xlarge")]
    public async Task Requested_instance_type_is_used_when_allowed(string? requested, string sent)
    {
        var provider = Provider(ec2);

        await provider.ProvisionAsync(new InstanceSpec(requested, "ephemeral", null), OperationId, WorkspaceTags(), default);

        Assert.Equal(sent, runs[0].InstanceType.Value);
    }

    [Fact]
    public async Task Instance_type_outside_the_allow_list_is_terminal_and_starts_nothing()
    {
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(
            () => provider.ProvisionAsync(new InstanceSpec("p5.48xlarge", "ephemeral", 100), OperationId, WorkspaceTags(), default));

        Assert.Equal(ProviderErrorKind.Terminal, error.Kind);
        Assert.Contains("p5.48xlarge", error.Message);
        Assert.Empty(runs);
        Assert.Empty(imageLookups);
    }

    [Fact]
    public async Task Network_identity_and_key_settings_are_sent()
    {
        var provider = Provider(ec2);

        await provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags(), default);

        var run = runs[0];
        Assert.Equal("subnet-0abc", run.SubnetId);
        Assert.Equal(["sg-01", "sg-02"], run.SecurityGroupIds);
        Assert.Equal("molecule-box", run.IamInstanceProfile.Name);
        Assert.Null(run.IamInstanceProfile.Arn);
        Assert.Equal("ops", run.KeyName);
    }

    [Fact]
    public async Task Instance_profile_given_as_an_ARN_is_sent_as_an_ARN()
    {
        var options = Options();
        options.IamInstanceProfile = "arn:aws:iam::123456789012:instance-profile/molecule-box";
        var provider = Provider(ec2, options);

        await provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags(), default);

        Assert.Equal(options.IamInstanceProfile, runs[0].IamInstanceProfile.Arn);
        Assert.Null(runs[0].IamInstanceProfile.Name);
    }

    [Fact]
    public async Task Unset_optional_settings_send_no_parameter()
    {
        var options = Options();
        options.SubnetId = null;
        options.SecurityGroupIds = [];
        options.IamInstanceProfile = null;
        options.KeyName = null;
        options.UserData = null;
        var provider = Provider(ec2, options);

        await provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags(), default);

        var run = runs[0];
        Assert.Null(run.SubnetId);
        Assert.Null(run.SecurityGroupIds);
        Assert.Null(run.IamInstanceProfile);
        Assert.Null(run.KeyName);
        Assert.Null(run.UserData);
        Assert.Null(run.BlockDeviceMappings);
    }

    [Fact]
    public async Task User_data_placeholders_are_filled_and_the_result_base64_encoded()
    {
        var provider = Provider(ec2);

        await provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags("ws-7"), default);

        var userData = Encoding.UTF8.GetString(Convert.FromBase64String(runs[0].UserData));
        Assert.Equal($"#!/bin/sh\necho ws-7 {OperationId} {DeploymentId} {ProviderName}\n", userData);
    }

    [Fact]
    public async Task Root_volume_size_is_set_on_the_images_root_device_looked_up_once()
    {
        var provider = Provider(ec2);
        var spec = new InstanceSpec(null, "persist", 80);

        await provider.ProvisionAsync(spec, OperationId, WorkspaceTags(), default);
        await provider.ProvisionAsync(spec, OperationId, WorkspaceTags(), default);

        var mapping = Assert.Single(runs[0].BlockDeviceMappings);
        Assert.Equal("/dev/xvda", mapping.DeviceName);
        Assert.Equal(80, mapping.Ebs.VolumeSize);
        var lookup = Assert.Single(imageLookups);
        Assert.Equal(["ami-0123456789abcdef0"], lookup.ImageIds);
    }

    [Fact]
    public async Task Configured_root_device_name_needs_no_image_lookup()
    {
        var options = Options();
        options.RootDeviceName = "/dev/sda1";
        var provider = Provider(ec2, options);

        await provider.ProvisionAsync(new InstanceSpec(null, "ephemeral", 50), OperationId, WorkspaceTags(), default);

        Assert.Equal("/dev/sda1", Assert.Single(runs[0].BlockDeviceMappings).DeviceName);
        Assert.Empty(imageLookups);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task Root_volume_without_a_positive_size_is_terminal_and_starts_nothing(int rootGb)
    {
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(
            () => provider.ProvisionAsync(new InstanceSpec(null, "ephemeral", rootGb), OperationId, WorkspaceTags(), default));

        Assert.Equal(ProviderErrorKind.Terminal, error.Kind);
        Assert.Empty(ec2.ReceivedCalls());
    }

    [Fact]
    public async Task Idempotent_parameter_mismatch_is_terminal()
    {
        ec2.RunInstancesAsync(Arg.Any<RunInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns<RunInstancesResponse>(_ => throw Error("IdempotentParameterMismatch"));
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags(), default));

        Assert.Equal(ProviderErrorKind.Terminal, error.Kind);
        Assert.False(error.IsRetryable);
    }

    [Theory]
    [InlineData("InsufficientInstanceCapacity")]
    [InlineData("VcpuLimitExceeded")]
    public async Task No_capacity_is_a_retryable_capacity_error(string code)
    {
        ec2.RunInstancesAsync(Arg.Any<RunInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns<RunInstancesResponse>(_ => throw Error(code, HttpStatusCode.ServiceUnavailable));
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags(), default));

        Assert.Equal(ProviderErrorKind.Capacity, error.Kind);
        Assert.True(error.IsRetryable);
        Assert.Contains(code, error.Message);
    }

    [Fact]
    public async Task Answer_without_an_instance_is_transient()
    {
        ec2.RunInstancesAsync(Arg.Any<RunInstancesRequest>(), Arg.Any<CancellationToken>())
            .Returns(new RunInstancesResponse { Reservation = new Reservation { Instances = null } });
        var provider = Provider(ec2);

        var error = await Assert.ThrowsAsync<ProviderException>(() => provider.ProvisionAsync(DefaultSpec, OperationId, WorkspaceTags(), default));

        Assert.Equal(ProviderErrorKind.Transient, error.Kind);
    }
}
