using System.Text.Encodings.Web;
using System.Text.Json;

namespace Molecule.Api.Http;

/// <summary>The API's JSON conventions: snake_case, built with <c>JsonNode</c> so nothing depends on reflection.</summary>
public static class ApiJson
{
    public static JsonSerializerOptions NodeOptions { get; } = new()
    {
        // hostile strings are returned verbatim but escaped, so nothing a name holds can break out of the JSON
        Encoder = JavaScriptEncoder.Default,
        WriteIndented = false,
    };
}
