using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Ec2;
using static Molecule.Workspaces.Tests.Providers.Ec2.Ec2TestKit;

namespace Molecule.Workspaces.Tests.Providers.Ec2;

public sealed class Ec2ErrorClassifierTests
{
    [Theory]
    [InlineData("RequestLimitExceeded")]
    [InlineData("Throttling")]
    [InlineData("Unavailable")]
    [InlineData("ServiceUnavailable")]
    [InlineData("InternalError")]
    [InlineData("InternalFailure")]
    [InlineData("RequestExpired")]
    [InlineData("RequestTimeTooSkewed")]
    public void Throttling_and_service_faults_are_transient(string code)
    {
        var error = Error(code);

        var kind = Ec2ErrorClassifier.Classify(error);

        Assert.Equal(ProviderErrorKind.Transient, kind);
    }

    [Theory]
    [InlineData("UnauthorizedOperation")]
    [InlineData("AuthFailure")]
    [InlineData("InvalidParameter")]
    [InlineData("InvalidParameterValue")]
    [InlineData("InvalidParameterCombination")]
    [InlineData("IdempotentParameterMismatch")]
    [InlineData("InvalidAMIID.NotFound")]
    [InlineData("InvalidAMIID.Malformed")]
    [InlineData("InvalidAMIID.Unavailable")]
    [InlineData("InvalidSubnetID.NotFound")]
    [InlineData("InvalidGroup.NotFound")]
    [InlineData("InvalidKeyPair.NotFound")]
    [InlineData("OptInRequired")]
    [InlineData("Blocked")]
    public void Wrong_or_forbidden_requests_are_terminal(string code)
    {
        var error = Error(code);

        var kind = Ec2ErrorClassifier.Classify(error);

        Assert.Equal(ProviderErrorKind.Terminal, kind);
    }

    [Theory]
    [InlineData("InsufficientInstanceCapacity")]
    [InlineData("InsufficientCapacity")]
    [InlineData("InsufficientHostCapacity")]
    [InlineData("InsufficientFreeAddressesInSubnet")]
    [InlineData("InstanceLimitExceeded")]
    [InlineData("VcpuLimitExceeded")]
    public void No_room_for_the_request_is_capacity(string code)
    {
        var error = Error(code, HttpStatusCode.ServiceUnavailable);

        var kind = Ec2ErrorClassifier.Classify(error);

        Assert.Equal(ProviderErrorKind.Capacity, kind);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public void Server_errors_without_a_known_code_are_transient(HttpStatusCode status)
    {
        var error = Error("SomethingNobodyListed", status);

        var kind = Ec2ErrorClassifier.Classify(error);

        Assert.Equal(ProviderErrorKind.Transient, kind);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    public void Refusal_without_any_code_is_terminal(HttpStatusCode status)
    {
        var error = Error(null, status);

        var kind = Ec2ErrorClassifier.Classify(error);

        Assert.Equal(ProviderErrorKind.Terminal, kind);
    }

    [Theory]
    [InlineData("Brand.NewErrorCode", HttpStatusCode.BadRequest)]
    [InlineData("Brand.NewErrorCode", HttpStatusCode.Forbidden)]
    [InlineData(null, HttpStatusCode.BadRequest)]
    [InlineData("", HttpStatusCode.Conflict)]
    public void Unknown_error_is_transient(string? code, HttpStatusCode status)
    {
        var error = Error(code, status);

        var kind = Ec2ErrorClassifier.Classify(error);

        Assert.Equal(ProviderErrorKind.Transient, kind);
    }

    public static TheoryData<Exception> NetworkAndTimeoutErrors() =>
    [
        new TimeoutException(),
        new TaskCanceledException(),
        new HttpRequestException("connection reset"),
        new IOException("broken pipe"),
        new SocketException((int)SocketError.ConnectionRefused),
        new AmazonServiceException("wrapped", new HttpRequestException("dns")),
        new AmazonClientException("Failed to resolve credentials"),
        new InvalidOperationException("anything else"),
    ];

    [Theory]
    [MemberData(nameof(NetworkAndTimeoutErrors))]
    public void Timeouts_network_failures_and_anything_unrecognised_are_transient(Exception exception)
    {
        var kind = Ec2ErrorClassifier.Classify(exception);

        Assert.Equal(ProviderErrorKind.Transient, kind);
    }

    [Fact]
    public void Service_error_wrapped_by_another_exception_keeps_its_kind()
    {
        var error = new AmazonClientException("outer", Error("UnauthorizedOperation"));

        var kind = Ec2ErrorClassifier.Classify(error);

        Assert.Equal(ProviderErrorKind.Terminal, kind);
    }

    [Fact]
    public void Exact_code_wins_over_a_terminal_prefix()
    {
        var sets = new[] { Ec2ErrorClassifier.CapacityCodes, Ec2ErrorClassifier.TransientCodes };

        var shadowed = sets.SelectMany(s => s)
            .Where(code => Ec2ErrorClassifier.TerminalCodePrefixes.Any(p => code.StartsWith(p, StringComparison.Ordinal)))
            .Where(code => Ec2ErrorClassifier.ClassifyCode(code) == ProviderErrorKind.Terminal);

        Assert.Empty(shadowed);
    }

    [Fact]
    public void No_code_is_in_two_lists()
    {
        var lists = new[] { Ec2ErrorClassifier.CapacityCodes, Ec2ErrorClassifier.TransientCodes, Ec2ErrorClassifier.TerminalCodes };

        var duplicates = lists.SelectMany(l => l).GroupBy(c => c).Where(g => g.Count() > 1).Select(g => g.Key);

        Assert.Empty(duplicates);
    }
}
