using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Molecule.Api.Contract;

/// <summary>
/// Source-generated JSON metadata of every request and answer of the API (no reflection: the Lambda build is Native AOT).
/// It is first in the HTTP JSON options' resolver chain (<see cref="ApiJson"/>), which the typed results and the OpenAPI
/// document both read.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(WorkspaceAnswer))]
[JsonSerializable(typeof(IReadOnlyList<WorkspaceAnswer>))]
[JsonSerializable(typeof(CreatedWorkspaceAnswer))]
[JsonSerializable(typeof(WorkspaceStateAnswer))]
[JsonSerializable(typeof(IReadOnlyList<EventAnswer>))]
[JsonSerializable(typeof(UpdatedAnswer))]
[JsonSerializable(typeof(DeletedAnswer))]
[JsonSerializable(typeof(NoopAnswer))]
[JsonSerializable(typeof(OperationStartedAnswer))]
[JsonSerializable(typeof(SwitchingAnswer))]
[JsonSerializable(typeof(CascadeAnswer))]
[JsonSerializable(typeof(OperationAnswer))]
[JsonSerializable(typeof(IReadOnlyList<OperationAnswer>))]
[JsonSerializable(typeof(StatusAnswer))]
[JsonSerializable(typeof(IReadOnlyList<ProviderAnswer>))]
[JsonSerializable(typeof(IReadOnlyList<SimInstanceAnswer>))]
[JsonSerializable(typeof(SimKillAnswer))]
[JsonSerializable(typeof(SimFaultsAnswer))]
[JsonSerializable(typeof(StepAnswer))]
[JsonSerializable(typeof(MigrateAnswer))]
[JsonSerializable(typeof(SweepTickAnswer))]
[JsonSerializable(typeof(CreateWorkspaceRequest))]
[JsonSerializable(typeof(PatchWorkspaceRequest))]
[JsonSerializable(typeof(SwitchProviderRequest))]
[JsonSerializable(typeof(SimFaultsRequest))]
[JsonSerializable(typeof(ProblemDocument))]
[JsonSerializable(typeof(Problem))]
[JsonSerializable(typeof(RemovedProblem))]
[JsonSerializable(typeof(RemovedStateProblem))]
[JsonSerializable(typeof(InvalidStateProblem))]
[JsonSerializable(typeof(BusyProblem))]
[JsonSerializable(typeof(ProviderChangedProblem))]
[JsonSerializable(typeof(VersionMismatchProblem))]
[JsonSerializable(typeof(ConfirmationRequiredProblem))]
[JsonSerializable(typeof(DescendantsProblem))]
[JsonSerializable(typeof(TerminatePendingProblem))]
[JsonSerializable(typeof(SweepRunningProblem))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(long))]
public sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>The HTTP JSON options of the API: snake_case, numbers as numbers (in answers and in the document's schemas).</summary>
public static class ApiJson
{
    public static IServiceCollection AddMoleculeJson(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
            // the resolver's own naming is not applied through another options instance: the options name the members
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            // the web default also reads numbers from strings, which the document would then describe as "integer or string"
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            // the web default is the relaxed encoder; hostile strings are returned verbatim but escaped (<, >, &, ' as \uXXXX), so
            // nothing a name holds can break out of the JSON wherever a client embeds it
            json.SerializerOptions.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default;
        });
}
