namespace Molecule.Api.OpenApi;

/// <summary>A request header a route reads by hand (so binding never answers for it), for the OpenAPI document.</summary>
public sealed record RequestHeaderMetadata(string Name, string Description);

/// <summary>A header a route sets on one of its answers, for the OpenAPI document.</summary>
public sealed record ResponseHeaderMetadata(int Status, string Name, string Description);

public static class HeaderEndpointExtensions
{
    public static TBuilder WithRequestHeader<TBuilder>(this TBuilder builder, string name, string description)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequestHeaderMetadata(name, description));

    public static TBuilder WithResponseHeader<TBuilder>(this TBuilder builder, int status, string name, string description)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ResponseHeaderMetadata(status, name, description));
}
