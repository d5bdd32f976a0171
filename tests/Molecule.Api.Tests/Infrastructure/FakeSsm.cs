using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Molecule.Api.Hosting;

namespace Molecule.Api.Tests.Infrastructure;

/// <summary>
/// SSM Parameter Store's <c>GetParameter</c> (JSON 1.1 protocol) on loopback: answers the parameters it holds,
/// <c>ParameterNotFound</c> for others, or nothing for <see cref="Stall"/>. Records each request body.
/// </summary>
public sealed class FakeSsm : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakeSsm(WebApplication app) => this.app = app;

    public ConcurrentDictionary<string, string> Parameters { get; } = new();

    public ConcurrentQueue<JsonObject> Requests { get; } = new();

    public TimeSpan Stall { get; set; }

    public string Url => app.Urls.First();

    /// <summary>A reader on this fake with fixed credentials, so no credential chain (and no metadata endpoint) is asked.</summary>
    public SsmParameterReader Reader(TimeSpan timeout) =>
        new(new AmazonSimpleSystemsManagementClient(new BasicAWSCredentials("AKIDTEST", "test-secret"),
            new AmazonSimpleSystemsManagementConfig { ServiceURL = Url, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 }), timeout);

    public static async Task<FakeSsm> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var ssm = new FakeSsm(app);
        app.MapPost("/", async (HttpContext http) =>
        {
            var body = JsonNode.Parse(await new StreamReader(http.Request.Body).ReadToEndAsync())!.AsObject();
            ssm.Requests.Enqueue(body);
            if (ssm.Stall > TimeSpan.Zero)
            {
                await Task.Delay(ssm.Stall, http.RequestAborted);
            }

            var name = (string?)body["Name"] ?? "";
            http.Response.ContentType = "application/x-amz-json-1.1";
            if (!ssm.Parameters.TryGetValue(name, out var value))
            {
                http.Response.StatusCode = 400;
                await http.Response.WriteAsync(new JsonObject { ["__type"] = "ParameterNotFound", ["message"] = "" }.ToJsonString());
                return;
            }

            await http.Response.WriteAsync(new JsonObject
            {
                ["Parameter"] = new JsonObject { ["Name"] = name, ["Type"] = "SecureString", ["Value"] = value, ["Version"] = 1 },
            }.ToJsonString());
        });
        await app.StartAsync();
        return ssm;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
