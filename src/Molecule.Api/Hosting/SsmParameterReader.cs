using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;

namespace Molecule.Api.Hosting;

/// <summary>
/// Reads one SecureString from SSM Parameter Store, decrypted, within a timeout. Every failure names the parameter and
/// says what to check; no message ever holds the value.
/// </summary>
public sealed class SsmParameterReader(IAmazonSimpleSystemsManagement ssm, TimeSpan timeout)
{
    public static SsmParameterReader Create(DatabaseSettings settings)
    {
        var config = new AmazonSimpleSystemsManagementConfig
        {
            // one read at start: the caller's timeout bounds it, the SDK's retries only have to fit inside
            Timeout = settings.ParameterTimeout,
            MaxErrorRetry = 2,
        };
        if (!string.IsNullOrEmpty(settings.SsmServiceUrl))
        {
            config.ServiceURL = settings.SsmServiceUrl;
        }

        return new SsmParameterReader(new AmazonSimpleSystemsManagementClient(config), settings.ParameterTimeout);
    }

    public async Task<string> ReadSecretAsync(string name, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        GetParameterResponse response;
        try
        {
            response = await ssm.GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true }, deadline.Token);
        }
        catch (ParameterNotFoundException)
        {
            throw new InvalidOperationException($"SSM parameter '{name}' does not exist in this account and region");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"SSM parameter '{name}' could not be read within {timeout.TotalSeconds:0.#} s: a function in a VPC needs an SSM VPC endpoint or a NAT route");
        }
        catch (AmazonServiceException ex)
        {
            throw new InvalidOperationException($"SSM parameter '{name}' could not be read: {ex.ErrorCode} ({(int)ex.StatusCode}) {ex.Message}");
        }
        catch (AmazonClientException ex)
        {
            throw new InvalidOperationException($"SSM parameter '{name}' could not be read: {ex.Message}");
        }

        var value = response.Parameter?.Value;
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException($"SSM parameter '{name}' is empty");
        }

        return value;
    }
}
