using System.Diagnostics;
using Npgsql;

namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of one test's own — initdb into a scratch directory, started on a free loopback port — for
/// the tests that restart or stop the server (what an RDS failover does), which must not touch the server the other
/// test classes share. Uses the same distro binaries <c>infra/dev.sh</c> installs; as root, runs them as
/// <c>postgres</c>, since the server refuses to run as root.
/// </summary>
public sealed class PrivatePostgres : IAsyncLifetime
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly string baseDir = Path.Combine("/var/tmp", "molecule-private-pg", Guid.NewGuid().ToString("N")[..12]);
    private string bin = "";
    private string? runAs;

    public int Port { get; private set; }

    private string DataDir => Path.Combine(baseDir, "data");

    private string LogFile => Path.Combine(baseDir, "postgres.log");

    /// <summary>An admin connection string on this server (database <c>postgres</c>).</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=5";

    public async Task InitializeAsync()
    {
        bin = Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
            .OrderByDescending(d => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : new Version(0, 0))
            .FirstOrDefault()
            ?? throw new InvalidOperationException("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: run the tests with infra/dev.sh test, which installs them");
        runAs = Environment.UserName == "root" ? "postgres" : null;
        Port = LoopbackPort.Free();

        Directory.CreateDirectory(baseDir);
        if (runAs is not null)
        {
            await RunAsync("chown", "-R", $"{runAs}:", Path.GetDirectoryName(baseDir)!);
            await RunAsync("chmod", "755", Path.GetDirectoryName(baseDir)!);
        }

        await RunAsOwnerAsync(Path.Combine(bin, "initdb"), "-D", DataDir, "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C", "--no-sync");
        await StartAsync();
    }

    /// <summary>A fast shutdown and a start: every open connection is dropped, as in a failover.</summary>
    public async Task RestartAsync()
    {
        await RunAsOwnerAsync(Path.Combine(bin, "pg_ctl"), "stop", "-D", DataDir, "-m", "fast", "-w", "-t", "30");
        await StartAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsOwnerAsync(Path.Combine(bin, "pg_ctl"), "stop", "-D", DataDir, "-m", "immediate", "-w", "-t", "30");
        }
        finally
        {
            Directory.Delete(baseDir, recursive: true);
        }
    }

    private Task StartAsync() => RunAsOwnerAsync(Path.Combine(bin, "pg_ctl"), "start", "-D", DataDir, "-l", LogFile, "-w", "-t", "30",
        "-o", $"-c listen_addresses=127.0.0.1 -c port={Port} -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c max_connections=300");

    private Task RunAsOwnerAsync(string program, params string[] args) =>
        runAs is null ? RunAsync(program, args) : RunAsync("runuser", ["-u", runAs, "--", program, .. args]);

    private async Task RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        using var timeout = new CancellationTokenSource(CommandTimeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            var log = File.Exists(LogFile) ? await File.ReadAllTextAsync(LogFile) : "";
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {await stdout}{await stderr}\n{log}");
        }
    }
}
