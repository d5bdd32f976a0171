using System.Collections.Frozen;
using System.Net;
using Amazon.Runtime;

namespace Molecule.Workspaces.Providers.Ec2;

/// <summary>
/// Decides what a failed EC2 call means. The rule that matters: an error we do not recognise is
/// <see cref="ProviderErrorKind.Transient"/>, because "unknown" must never be read as "dead" or as "do not retry".
/// A caller's own cancellation is not an error and is handled before this class is asked.
/// </summary>
public static class Ec2ErrorClassifier
{
    /// <summary>The cloud has no room for the request right now. Not an exhaustive list, add to it as needed.</summary>
    /// <remarks>
    /// Account limits are here rather than terminal: a switch or restart stops the old box just before provisioning,
    /// and a shutting-down box holds its vCPUs until it is terminated, so a retry a few seconds later can succeed.
    /// </remarks>
    public static readonly FrozenSet<string> CapacityCodes = FrozenSet.Create(
        StringComparer.Ordinal,
        "InsufficientInstanceCapacity",
        "InsufficientCapacity",
        "InsufficientHostCapacity",
        "InsufficientReservedInstanceCapacity",
        "InsufficientFreeAddressesInSubnet",
        "InstanceLimitExceeded",
        "VcpuLimitExceeded",
        "MaxSpotInstanceCountExceeded");

    /// <summary>Throttling, service faults and expired requests: the truth is unknown. Not an exhaustive list, add to it as needed.</summary>
    public static readonly FrozenSet<string> TransientCodes = FrozenSet.Create(
        StringComparer.Ordinal,
        "RequestLimitExceeded",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "EC2ThrottledException",
        "Unavailable",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "RequestTimeout",
        "RequestTimeoutException",
        "RequestExpired",
        "RequestTimeTooSkewed",
        "PriorRequestNotComplete",
        "IDPCommunicationError");

    /// <summary>The request itself is wrong or not allowed: the same call cannot succeed. Not an exhaustive list, add to it as needed.</summary>
    public static readonly FrozenSet<string> TerminalCodes = FrozenSet.Create(
        StringComparer.Ordinal,
        "UnauthorizedOperation",
        "AuthFailure",
        "AccessDenied",
        "AccessDeniedException",
        "InvalidClientTokenId",
        // a list page token that is stale or not EC2's: asking again with it cannot help (the sweep starts the list over)
        "InvalidPaginationToken",
        "SignatureDoesNotMatch",
        "MissingAuthenticationToken",
        "Blocked",
        "OptInRequired",
        "PendingVerification",
        "IdempotentParameterMismatch",
        "MissingParameter",
        "UnknownParameter",
        "InvalidAction",
        "UnsupportedOperation",
        "Unsupported",
        "ValidationError",
        "OperationNotPermitted",
        "InvalidBlockDeviceMapping",
        "InvalidUserData.Malformed");

    /// <summary>
    /// Code families that are terminal as a whole (<c>InvalidParameterValue</c>, <c>InvalidAMIID.NotFound</c>, ...).
    /// Checked after the exact sets, so an exact entry wins. Not an exhaustive list, add to it as needed.
    /// </summary>
    public static readonly IReadOnlyList<string> TerminalCodePrefixes =
    [
        "InvalidParameter",
        "InvalidAMIID.",
        "InvalidSubnetID.",
        "InvalidSubnet.",
        "InvalidGroup.",
        "InvalidGroupId.",
        "InvalidSecurityGroupID.",
        "InvalidKeyPair.",
    ];

    /// <summary>The kind of <paramref name="exception"/>; anything not recognised is <see cref="ProviderErrorKind.Transient"/>.</summary>
    public static ProviderErrorKind Classify(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is AmazonServiceException service && ClassifyService(service) is { } kind)
            {
                return kind;
            }
        }

        // Timeouts (TimeoutException, a TaskCanceledException from our CallTimeout or the HttpClient), network failures
        // (HttpRequestException, IOException, SocketException, bare or wrapped by the SDK), unknown codes: all transient.
        return ProviderErrorKind.Transient;
    }

    /// <summary>The kind of an error code alone, or null when the code is not in any list.</summary>
    public static ProviderErrorKind? ClassifyCode(string? errorCode)
    {
        if (string.IsNullOrEmpty(errorCode))
        {
            return null;
        }

        if (CapacityCodes.Contains(errorCode))
        {
            return ProviderErrorKind.Capacity;
        }

        if (TransientCodes.Contains(errorCode))
        {
            return ProviderErrorKind.Transient;
        }

        if (TerminalCodes.Contains(errorCode) || TerminalCodePrefixes.Any(p => errorCode.StartsWith(p, StringComparison.Ordinal)))
        {
            return ProviderErrorKind.Terminal;
        }

        return null;
    }

    /// <summary>A short description for logs and <see cref="TerminateResult.Error"/>: the error code (or type) and message.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        AmazonServiceException { ErrorCode: { Length: > 0 } code } e => $"{code}: {e.Message}",
        AmazonServiceException e when e.StatusCode != 0 => $"HTTP {(int)e.StatusCode}: {e.Message}",
        OperationCanceledException => "timed out",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };

    private static ProviderErrorKind? ClassifyService(AmazonServiceException exception)
    {
        if (ClassifyCode(exception.ErrorCode) is { } byCode)
        {
            return byCode;
        }

        var status = (int)exception.StatusCode;
        return status switch
        {
            >= 500 => ProviderErrorKind.Transient,
            (int)HttpStatusCode.TooManyRequests => ProviderErrorKind.Transient,
            // A refusal without a code we know is still a refusal; with an unknown code it stays transient below.
            (int)HttpStatusCode.Unauthorized or (int)HttpStatusCode.Forbidden when string.IsNullOrEmpty(exception.ErrorCode) => ProviderErrorKind.Terminal,
            _ => null,
        };
    }
}
