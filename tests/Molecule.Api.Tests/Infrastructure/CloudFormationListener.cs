using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Molecule.Api.Tests.Infrastructure;

/// <summary>
/// A loopback stand-in for the pre-signed S3 URL CloudFormation hands a custom resource: records every PUT (body and
/// whether it carried a Content-Type) and answers 200, or 500 for the first <see cref="FailFirst"/> PUTs.
/// </summary>
public sealed class CloudFormationListener : IAsyncDisposable
{
    private readonly WebApplication app;
    private int failuresLeft;

    private CloudFormationListener(WebApplication app) => this.app = app;

    public ConcurrentQueue<(string Path, JsonObject Document, bool HadContentType)> Puts { get; } = new();

    public int FailFirst
    {
        set => failuresLeft = value;
    }

    public Uri ResponseUrl(string id) => new($"{app.Urls.First()}/cfn-response/{id}?X-Amz-Signature=abc");

    public static async Task<CloudFormationListener> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var listener = new CloudFormationListener(app);
        app.MapPut("/cfn-response/{id}", async (HttpContext http, string id) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            listener.Puts.Enqueue(($"/cfn-response/{id}", JsonNode.Parse(body)!.AsObject(), http.Request.ContentType is not null));
            return Interlocked.Decrement(ref listener.failuresLeft) >= 0 ? Results.StatusCode(500) : Results.Ok();
        });
        await app.StartAsync();
        return listener;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
