using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Molecule.Bench;

/// <summary>
/// A project published into <c>.local/bench/</c> (framework-dependent JIT, or Native AOT) and started as its own
/// process on a free loopback port, with the environment it is given. Its output goes to a log file beside it; it is
/// killed on dispose.
/// </summary>
public sealed class PublishedApp : IAsyncDisposable
{
    private readonly Process process;

    private PublishedApp(string name, Process process, int port, string log)
    {
        Name = name;
        this.process = process;
        BaseUrl = $"http://127.0.0.1:{port}";
        Log = log;
    }

    public string Name { get; }

    public string BaseUrl { get; }

    public string Log { get; }

    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>
    /// Publishes <paramref name="project"/> (a path under the repository) and returns the executable. The app's own AOT
    /// binary comes from <c>infra/sam/publish-aot.sh</c>, the very build the Lambda functions ship (and its cache).
    /// </summary>
    public static async Task<string> PublishAsync(string project, string assemblyName, bool aot, CancellationToken ct)
    {
        var output = Path.Combine(RepositoryRoot, ".local", "bench", assemblyName + (aot ? "-aot" : "-jit"));
        if (aot && assemblyName == "Molecule.Api")
        {
            output = Path.Combine(RepositoryRoot, ".local", "lambda", "publish");
            await RunToEndAsync("infra/sam/publish-aot.sh", [output], ct);
        }
        else
        {
            string[] arguments = aot
                ? ["publish", project, "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", output, "--nologo"]
                : ["publish", project, "-c", "Release", "-p:PublishAot=false", "-o", output, "--nologo"];
            await RunToEndAsync("dotnet", arguments, ct);
        }

        var executable = Path.Combine(output, assemblyName);
        return File.Exists(executable) ? executable : throw new InvalidOperationException($"{executable} was not published");
    }

    /// <summary>Starts the executable on a free loopback port and waits until <c>GET /healthz</c> answers 200.</summary>
    public static async Task<PublishedApp> StartAsync(string name, string executable, IReadOnlyDictionary<string, string> environment,
        CancellationToken ct)
    {
        var port = FreePort();
        var log = Path.Combine(Path.GetDirectoryName(executable)!, $"{name}.log");
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = Path.GetDirectoryName(executable)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start");
        var writer = new StreamWriter(log) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(writer, e.Data);
        process.ErrorDataReceived += (_, e) => Write(writer, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.Exited += (_, _) => writer.Dispose();
        process.EnableRaisingEvents = true;

        var app = new PublishedApp(name, process, port, log);
        await app.WaitHealthyAsync(TimeSpan.FromSeconds(60), ct);
        return app;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        process.Dispose();
    }

    private async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {process.ExitCode} before it was healthy; see {Log}");
            }

            try
            {
                using var response = await http.GetAsync($"{BaseUrl}/healthz", ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // one slow answer while it starts
            }

            await Task.Delay(100, ct);
        }

        throw new TimeoutException($"{Name} was not healthy within {timeout.TotalSeconds:F0} s; see {Log}");
    }

    private static void Write(StreamWriter writer, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (writer)
        {
            try
            {
                writer.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // the last lines of a process being killed
            }
        }
    }

    private static async Task RunToEndAsync(string file, string[] arguments, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = RepositoryRoot, UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var output = await process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{output}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Molecule.Serverless.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Molecule.Serverless.sln above {AppContext.BaseDirectory}");
    }
}
