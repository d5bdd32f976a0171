namespace Molecule.Api.Http;

/// <summary>What a workspace name may hold beyond its length: anything printable, stored verbatim.</summary>
public static class Names
{
    /// <summary>A reason the name is refused, or null. Control characters would break every list the canvas draws.</summary>
    public static string? Invalid(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "name must not be blank";
        }

        return name.Any(char.IsControl) ? "name must not contain control characters" : null;
    }
}
