using System.Text.Json.Nodes;

namespace Molecule.Api.Hosting;

/// <summary>
/// Answers a CloudFormation custom-resource request: one PUT of the response document to the pre-signed
/// <c>ResponseURL</c>. Without it the stack waits out the custom resource's timeout, so the PUT is tried a few times,
/// each under a timeout. The body goes with no <c>Content-Type</c>: the URL is signed without one.
/// </summary>
public sealed class CloudFormationResponder(HttpClient http, TimeSpan attemptTimeout, TimeProvider time)
{
    public const int Attempts = 3;

    /// <summary>CloudFormation refuses a response document over 4096 bytes; the reason is what can grow.</summary>
    public const int MaxReasonLength = 1024;

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Null when CloudFormation took the answer, else why not.</summary>
    public async Task<string?> SendAsync(Uri responseUrl, JsonObject document, CancellationToken ct)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(document.ToJsonString());
        string? lastError = null;
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(attemptTimeout);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Put, responseUrl) { Content = new ByteArrayContent(body) };
                using var response = await http.SendAsync(request, timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    return null;
                }

                lastError = $"the response URL answered {(int)response.StatusCode}";
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                lastError = $"the response URL did not answer within {attemptTimeout.TotalSeconds:0.#} s";
            }
            catch (HttpRequestException ex)
            {
                lastError = $"the response URL could not be reached: {ex.Message}";
            }

            if (attempt < Attempts)
            {
                await Task.Delay(FirstRetryDelay * attempt, time, ct);
            }
        }

        return lastError;
    }

    /// <summary>The response document of DESIGN §11's custom resource.</summary>
    public static JsonObject Document(CustomResourceRequest request, bool succeeded, string? reason, string physicalResourceId)
    {
        var document = new JsonObject
        {
            ["Status"] = succeeded ? "SUCCESS" : "FAILED",
            ["PhysicalResourceId"] = physicalResourceId,
            ["StackId"] = request.StackId,
            ["RequestId"] = request.RequestId,
            ["LogicalResourceId"] = request.LogicalResourceId,
            ["NoEcho"] = false,
            ["Data"] = new JsonObject(),
        };
        if (reason is not null)
        {
            document["Reason"] = reason.Length <= MaxReasonLength ? reason : reason[..(MaxReasonLength - 1)] + "…";
        }

        return document;
    }
}
