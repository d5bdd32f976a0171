using System.Text.Json.Nodes;

namespace Molecule.Api.Hosting;

/// <summary>The fields of a CloudFormation custom-resource request that an answer needs.</summary>
public sealed record CustomResourceRequest(
    string RequestType,
    Uri ResponseUrl,
    string StackId,
    string RequestId,
    string LogicalResourceId,
    string? PhysicalResourceId)
{
    public const string Create = "Create";
    public const string Update = "Update";
    public const string Delete = "Delete";

    /// <summary>The request, or why it is not one (then CloudFormation cannot be answered at all).</summary>
    public static (CustomResourceRequest? Request, string? Error) Parse(JsonObject body)
    {
        string? Text(string name) => body[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;

        var missing = new[] { "RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId" }.Where(f => Text(f) is null).ToList();
        if (missing.Count > 0)
        {
            return (null, $"not a CloudFormation custom-resource request: no {string.Join(", ", missing)}");
        }

        if (!Uri.TryCreate(Text("ResponseURL"), UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
        {
            return (null, "ResponseURL is not an http(s) URL");
        }

        return (new CustomResourceRequest(Text("RequestType")!, url, Text("StackId")!, Text("RequestId")!, Text("LogicalResourceId")!,
            Text("PhysicalResourceId")), null);
    }
}
