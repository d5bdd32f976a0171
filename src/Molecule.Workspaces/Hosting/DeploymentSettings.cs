using Microsoft.Extensions.Configuration;

namespace Molecule.Workspaces.Hosting;

/// <summary>The deployment-wide settings of the library, at the top of the <c>Molecule</c> section.</summary>
public sealed class DeploymentSettings
{
    public const string SectionName = "Molecule";

    /// <summary>Value of every box's <c>molecule:deployment</c> tag; the sweeps only ever touch boxes with it. <value>The default is <c>local</c>.</value></summary>
    public string DeploymentId { get; set; } = "local";

    /// <summary>The provider new workspaces use when the request names none. <value>The default is <c>sim-east</c>.</value></summary>
    public string DefaultProvider { get; set; } = "sim-east";

    public static DeploymentSettings From(IConfiguration configuration) =>
        (configuration.GetSection(SectionName).Get<DeploymentSettings>() ?? new DeploymentSettings()).Validate();

    /// <summary>Refuses an empty id: it is the tag the sweeps' and the terminate permission's safety rests on.</summary>
    public DeploymentSettings Validate()
    {
        if (string.IsNullOrWhiteSpace(DeploymentId))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(DeploymentId)} must not be empty");
        }

        if (string.IsNullOrWhiteSpace(DefaultProvider))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(DefaultProvider)} must not be empty");
        }

        return this;
    }
}
