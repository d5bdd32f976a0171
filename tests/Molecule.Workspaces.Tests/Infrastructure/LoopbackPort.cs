using System.Net;
using System.Net.Sockets;

namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>Loopback ports for tests: one the system handed out and released at once.</summary>
public static class LoopbackPort
{
    /// <summary>A port nothing listens on now: for a server of the test's own to take, or for a call that must be refused.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
