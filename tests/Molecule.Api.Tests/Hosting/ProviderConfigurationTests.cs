using Microsoft.Extensions.Configuration;
using Molecule.Workspaces.Providers;

namespace Molecule.Api.Tests.Hosting;

public sealed class ProviderConfigurationTests
{
    [Fact]
    public void Security_groups_given_as_one_comma_separated_value_become_a_list()
    {
        var section = Section(new() { ["Molecule:Providers:ec2:SecurityGroupIds"] = "sg-0aaa, sg-0bbb" });

        var options = ProviderConfiguration.Ec2Options(section);

        Assert.Equal(["sg-0aaa", "sg-0bbb"], options.SecurityGroupIds);
    }

    [Fact]
    public void Security_groups_given_as_a_list_stay_a_list()
    {
        var section = Section(new() { ["Molecule:Providers:ec2:SecurityGroupIds:0"] = "sg-0aaa", ["Molecule:Providers:ec2:SecurityGroupIds:1"] = "sg-0ccc" });

        var options = ProviderConfiguration.Ec2Options(section);

        Assert.Equal(["sg-0aaa", "sg-0ccc"], options.SecurityGroupIds);
    }

    private static IConfigurationSection Section(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("Molecule:Providers:ec2");
}
