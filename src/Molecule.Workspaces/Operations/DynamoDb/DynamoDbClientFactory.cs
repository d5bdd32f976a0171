using Amazon.DynamoDBv2;
using Amazon.Runtime;

namespace Molecule.Workspaces.Operations.DynamoDb;

/// <summary>Builds the low-level DynamoDB client of the dispatcher (no object-persistence layer: it is not AOT-safe).</summary>
public static class DynamoDbClientFactory
{
    /// <summary>The SDK's own attempts per hand-off: one retry of a throttle or a dropped connection, within the hand-off's timeout.</summary>
    public const int SdkRetries = 1;

    /// <summary>A client with the standard credential and region chain; the caller owns (and disposes) it.</summary>
    public static IAmazonDynamoDB CreateClient(DynamoDbDispatchOptions options) => new AmazonDynamoDBClient(CreateConfig(options));

    /// <summary>The client configuration: bounded per attempt and in retries, so a hand-off can never hold a request long.</summary>
    public static AmazonDynamoDBConfig CreateConfig(DynamoDbDispatchOptions options)
    {
        var config = new AmazonDynamoDBConfig
        {
            // a repeated put is safe: the same dispatch_count fails the condition and counts as written
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = SdkRetries,

            // per HTTP attempt; the dispatcher's cancellation bounds the whole hand-off to the same figure
            Timeout = options.Timeout,
        };

        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
        }

        return config;
    }
}
