using Amazon.EC2;
using Molecule.Workspaces.Providers.Ec2;
using NSubstitute;
using static Molecule.Workspaces.Tests.Providers.Ec2.Ec2TestKit;

namespace Molecule.Workspaces.Tests.Providers.Ec2;

public sealed class Ec2ProviderOptionsTests
{
    [Fact]
    public void Defaults_are_a_ten_second_timeout_and_empty_lists()
    {
        var options = new Ec2ProviderOptions();

        Assert.Equal(TimeSpan.FromSeconds(10), options.CallTimeout);
        Assert.Empty(options.AllowedInstanceTypes);
        Assert.Empty(options.SecurityGroupIds);
        Assert.Empty(options.Tags);
    }

    [Fact]
    public void Provider_with_missing_settings_names_each_of_them()
    {
        var options = new Ec2ProviderOptions { CallTimeout = TimeSpan.Zero };

        var error = Assert.Throws<InvalidOperationException>(() => Provider(Substitute.For<IAmazonEC2>(), options));

        Assert.Contains($"Molecule:Providers:{ProviderName}", error.Message);
        Assert.Contains("Region", error.Message);
        Assert.Contains("ImageId", error.Message);
        Assert.Contains("InstanceType", error.Message);
        Assert.Contains("CallTimeout", error.Message);
    }

    [Theory]
    [InlineData("molecule:deployment")]
    [InlineData("aws:cloudformation:stack-name")]
    public void Reserved_extra_tag_keys_are_rejected(string key)
    {
        var options = Options();
        options.Tags[key] = "x";

        var error = Assert.Throws<InvalidOperationException>(() => options.Validate(ProviderName));

        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Provider_reports_its_name_and_type()
    {
        var provider = Provider(Substitute.For<IAmazonEC2>());

        Assert.Equal(ProviderName, provider.Name);
        Assert.Equal("ec2", provider.Type);
    }
}
