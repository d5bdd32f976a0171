namespace Molecule.Api.Hosting;

/// <summary>
/// The canvas is a browser app on another origin. In AWS the HTTP API answers CORS itself (template.yaml's
/// <c>CorsConfiguration</c>, the same lists as here); locally the app does, for the origins in
/// <c>Molecule:Cors:AllowedOrigins</c> — none by default, so an unconfigured host sends no CORS headers at all.
/// </summary>
public static class CorsRegistration
{
    public const string SectionName = "Molecule:Cors:AllowedOrigins";

    /// <summary>The request headers the canvas sends.</summary>
    public static readonly string[] AllowedHeaders =
        ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Confirm-Name", "X-Molecule-Org-Slug"];

    /// <summary>The response headers the canvas reads.</summary>
    public static readonly string[] ExposedHeaders = ["Location", "ETag", "Link", "Retry-After"];

    public static readonly string[] AllowedMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    /// <summary>How long a browser may cache a preflight answer.</summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromMinutes(10);

    public static string[] AllowedOrigins(IConfiguration configuration) =>
        configuration.GetSection(SectionName).GetChildren()
            .Select(c => c.Value?.Trim())
            .Where(o => !string.IsNullOrEmpty(o))
            .Select(o => o!.TrimEnd('/'))
            .ToArray();

    public static IServiceCollection AddMoleculeCors(this IServiceCollection services, IConfiguration configuration)
    {
        var origins = AllowedOrigins(configuration);
        foreach (var origin in origins)
        {
            if (origin == "*" || !Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.AbsolutePath != "/")
            {
                throw new InvalidOperationException($"{SectionName} holds '{origin}', which is not an origin (scheme://host[:port])");
            }
        }

        return services.AddCors(cors => cors.AddDefaultPolicy(policy => policy
            .WithOrigins(origins)
            .WithHeaders(AllowedHeaders)
            .WithExposedHeaders(ExposedHeaders)
            .WithMethods(AllowedMethods)
            .SetPreflightMaxAge(PreflightMaxAge)));
    }

    /// <summary>Before authentication: a preflight carries no token, and a 401 must still be readable by the canvas.</summary>
    public static void UseMoleculeCors(this WebApplication app)
    {
        if (AllowedOrigins(app.Configuration).Length > 0)
        {
            app.UseCors();
        }
    }
}
