namespace Molecule.Workspaces.Hosting;

/// <summary>The one shape of a start-up refusal of a setting, so every options section names the setting and the value it got.</summary>
internal static class OptionRules
{
    /// <summary>Throws "<c>{section}:{setting} {rule} (got '{value}')</c>" unless <paramref name="holds"/>.</summary>
    public static void Require(bool holds, string section, string setting, object? value, string rule)
    {
        if (!holds)
        {
            throw new InvalidOperationException($"{section}:{setting} {rule} (got '{value}')");
        }
    }
}
