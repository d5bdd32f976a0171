using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Molecule.Bench;

/// <summary>What one wrk run measured: requests per second and the median and 99th percentile latency.</summary>
public sealed record WrkResult(double RequestsPerSecond, TimeSpan P50, TimeSpan P99, long Requests, long Errors);

/// <summary>
/// Drives a URL with wrk (Debian's <c>wrk</c>; <c>infra/dev.sh bench api</c> installs it): C, so the load generator takes
/// as little of the machine's two cores as any can. Threads = min(2, connections).
/// </summary>
public static partial class Wrk
{
    public static async Task<WrkResult> RunAsync(string url, int connections, TimeSpan duration, IReadOnlyDictionary<string, string> headers,
        CancellationToken ct)
    {
        var start = new ProcessStartInfo("wrk")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])
                 ["-t", Math.Min(2, connections).ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
                  "-d", $"{(int)duration.TotalSeconds}s", "--latency", "--timeout", "10s"])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in headers)
        {
            start.ArgumentList.Add("-H");
            start.ArgumentList.Add($"{name}: {value}");
        }

        start.ArgumentList.Add(url);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new BenchUsageException($"wrk is not on PATH ({ex.Message}): run it with 'infra/dev.sh bench api', which installs Debian's wrk");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            var output = await stdout;
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"wrk exited {process.ExitCode}: {await stderr}{output}");
            }

            return Parse(output);
        }
    }

    /// <summary>
    /// Reads wrk's report: <c>Requests/sec: 1234.56</c>, the <c>--latency</c> distribution (<c>50%  245.00us</c>), the
    /// request count, and any <c>Non-2xx or 3xx responses</c> or socket errors (counted as errors).
    /// </summary>
    public static WrkResult Parse(string output)
    {
        var rps = double.Parse(Required(RequestsPerSecond(), output, "Requests/sec"), CultureInfo.InvariantCulture);
        var requests = long.Parse(Required(RequestCount(), output, "requests in"), CultureInfo.InvariantCulture);
        long errors = 0;
        if (NonSuccess().Match(output) is { Success: true } non2xx)
        {
            errors += long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        foreach (Match socket in SocketErrors().Matches(output))
        {
            errors += long.Parse(socket.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        return new WrkResult(rps, Percentile(output, "50"), Percentile(output, "99"), requests, errors);
    }

    private static TimeSpan Percentile(string output, string percent)
    {
        var match = Regex.Match(output, $@"^\s*{percent}(?:\.0+)?%\s+([0-9.]+)(us|ms|s|m|h)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            throw new InvalidOperationException($"no {percent}% latency in wrk's output:\n{output}");
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "us" => TimeSpan.FromMicroseconds(value),
            "ms" => TimeSpan.FromMilliseconds(value),
            "s" => TimeSpan.FromSeconds(value),
            "m" => TimeSpan.FromMinutes(value),
            _ => TimeSpan.FromHours(value),
        };
    }

    private static string Required(Regex pattern, string output, string what) =>
        pattern.Match(output) is { Success: true } match
            ? match.Groups[1].Value
            : throw new InvalidOperationException($"no '{what}' in wrk's output:\n{output}");

    [GeneratedRegex(@"^Requests/sec:\s+([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s*([0-9]+) requests in", RegexOptions.Multiline)]
    private static partial Regex RequestCount();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+([0-9]+)")]
    private static partial Regex NonSuccess();

    [GeneratedRegex(@"(?:connect|read|write|timeout) ([0-9]+)")]
    private static partial Regex SocketErrors();
}
