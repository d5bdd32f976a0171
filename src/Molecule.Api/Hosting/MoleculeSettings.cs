namespace Molecule.Api.Hosting;

/// <summary>
/// The host's part of the top level of the <c>Molecule</c> configuration section (the library's, the deployment id and
/// the default provider, is <see cref="Molecule.Workspaces.Hosting.DeploymentSettings"/>).
/// </summary>
public sealed class MoleculeSettings
{
    /// <summary>
    /// What this process serves (<see cref="ServiceRoles"/>): <c>all</c> locally; <c>api</c>, <c>steps</c>,
    /// <c>sweeps</c> or <c>migrate</c> per Lambda function in AWS. <value>The default is <c>all</c>.</value>
    /// </summary>
    public string Role { get; set; } = ServiceRoles.All;

    /// <summary>Apply migrations before serving. True locally; in AWS the <c>migrate</c> custom resource does it on deploy.</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>The settings from configuration, validated: a role this build does not know refuses to start.</summary>
    public static MoleculeSettings From(IConfiguration configuration) =>
        (configuration.GetSection("Molecule").Get<MoleculeSettings>() ?? new MoleculeSettings()).Validate();

    /// <summary>Refuses, at start-up, a role this build does not know: a typo must not start a process that serves nothing.</summary>
    public MoleculeSettings Validate()
    {
        if (!ServiceRoles.Known.Contains(Role))
        {
            throw new InvalidOperationException(
                $"Molecule:Role '{Role}' is not a role; use one of: {string.Join(", ", ServiceRoles.Known)}");
        }

        return this;
    }
}
