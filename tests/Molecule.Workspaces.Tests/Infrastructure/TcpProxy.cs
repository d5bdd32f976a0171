using System.Net;
using System.Net.Sockets;

namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of Postgres, so a test can cut one host off its database at once: <see cref="Sever"/>
/// closes every open connection and refuses new ones. To the database and to every other process that is exactly a
/// process that died — it renews nothing, releases nothing and writes nothing more — while the test keeps control of
/// the host object itself.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly string targetHost;
    private readonly int targetPort;
    private readonly CancellationTokenSource severed = new();
    private readonly Lock gate = new();
    private readonly List<TcpClient> open = [];
    private readonly Task accepting;

    public TcpProxy(string targetHost, int targetPort)
    {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        listener.Start();
        accepting = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary><paramref name="connectionString"/> with its host and port pointed at this proxy.</summary>
    public string Route(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = Port }.ConnectionString;

    /// <summary>For a connection string's server: a proxy in front of it.</summary>
    public static TcpProxy For(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        return new TcpProxy(builder.Host ?? "127.0.0.1", builder.Port);
    }

    /// <summary>Drops every connection through the proxy and refuses any new one, for good.</summary>
    public void Sever()
    {
        severed.Cancel();
        listener.Stop();
        lock (gate)
        {
            foreach (var client in open)
            {
                client.Dispose();
            }

            open.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!severed.IsCancellationRequested)
        {
            Sever();
        }

        await accepting;
        severed.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!severed.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(severed.Token);
            }
            catch (Exception) when (severed.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(() => PipeAsync(inbound));
        }
    }

    private async Task PipeAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        lock (gate)
        {
            if (severed.IsCancellationRequested)
            {
                inbound.Dispose();
                outbound.Dispose();
                return;
            }

            open.Add(inbound);
            open.Add(outbound);
        }

        try
        {
            await outbound.ConnectAsync(targetHost, targetPort, severed.Token);
            var a = inbound.GetStream().CopyToAsync(outbound.GetStream(), severed.Token);
            var b = outbound.GetStream().CopyToAsync(inbound.GetStream(), severed.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception)
        {
            // either side closed, or the proxy was severed: both sockets go
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
            lock (gate)
            {
                open.Remove(inbound);
                open.Remove(outbound);
            }
        }
    }
}
