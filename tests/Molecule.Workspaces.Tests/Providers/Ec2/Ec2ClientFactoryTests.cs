using Amazon;
using Molecule.Workspaces.Providers.Ec2;
using static Molecule.Workspaces.Tests.Providers.Ec2.Ec2TestKit;

namespace Molecule.Workspaces.Tests.Providers.Ec2;

public sealed class Ec2ClientFactoryTests
{
    [Fact]
    public void Client_makes_one_attempt_per_call_within_CallTimeout()
    {
        var options = Options();
        options.CallTimeout = TimeSpan.FromSeconds(7);

        var config = Ec2ClientFactory.CreateConfig(options);

        Assert.Equal(0, config.MaxErrorRetry);
        Assert.Equal(TimeSpan.FromSeconds(7), config.Timeout);
        Assert.Equal(RegionEndpoint.USEast1, config.RegionEndpoint);
    }

    [Fact]
    public void Service_url_replaces_the_endpoint_and_keeps_the_signing_region()
    {
        var options = Options();
        options.Region = "eu-west-1";
        options.ServiceUrl = "https://vpce-0abc.ec2.eu-west-1.vpce.amazonaws.com";

        var config = Ec2ClientFactory.CreateConfig(options);

        Assert.Equal("https://vpce-0abc.ec2.eu-west-1.vpce.amazonaws.com", config.ServiceURL.TrimEnd('/'));
        Assert.Equal("eu-west-1", config.AuthenticationRegion);
    }
}
