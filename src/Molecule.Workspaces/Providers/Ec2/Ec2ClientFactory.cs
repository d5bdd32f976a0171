using Amazon;
using Amazon.EC2;
using Amazon.Runtime;

namespace Molecule.Workspaces.Providers.Ec2;

/// <summary>Builds the real EC2 client for one <c>ec2</c> provider. Credentials come from the standard AWS chain.</summary>
public static class Ec2ClientFactory
{
    /// <summary>A client for <paramref name="options"/>; the caller owns (and disposes) it.</summary>
    public static IAmazonEC2 CreateClient(Ec2ProviderOptions options) => new AmazonEC2Client(CreateConfig(options));

    /// <summary>The client configuration for <paramref name="options"/>: region or endpoint, timeout, no SDK retries.</summary>
    public static AmazonEC2Config CreateConfig(Ec2ProviderOptions options)
    {
        var config = new AmazonEC2Config
        {
            RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region),

            // Retries are ours, not the SDK's. Every caller already retries with its own budget and delays
            // (DESIGN §5.2: provision 6 attempts, stop-old 4, the delete path 3 within 30 s, sweeps every 60 s,
            // and Step Functions retries crashed tasks 6 times on top). The SDK's Standard mode would add 2
            // retries to each of those (6 x 3 = 18 RunInstances for one provision step), hide the time they take
            // inside our CallTimeout, and retry throttling into more throttling. With 0 retries one call is one
            // HTTP attempt, CallTimeout bounds exactly that attempt, and every repeat is one our callers counted.
            // Repeats are safe: RunInstances carries a ClientToken, TerminateInstances is idempotent, describes are reads.
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = 0,

            // The HttpClient's own timeout, a backstop for the CancellationToken-based CallTimeout in Ec2Provider.
            Timeout = options.CallTimeout,
        };

        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            // Setting ServiceURL clears RegionEndpoint, so requests are still signed for the configured region.
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }

        return config;
    }
}
