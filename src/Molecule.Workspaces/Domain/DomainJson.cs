using System.Text.Json;
using System.Text.Json.Serialization;

namespace Molecule.Workspaces.Domain;

/// <summary>Source-generated (de)serialisation of the jsonb columns.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Compute))]
[JsonSerializable(typeof(OperationInput))]
[JsonSerializable(typeof(OperationProgress))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class DomainJson : JsonSerializerContext;
