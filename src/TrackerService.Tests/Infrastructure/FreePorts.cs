using System.Net;
using System.Net.Sockets;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Free loopback ports for a test's own servers (nats-server, nginx), which take their ports from a config file.</summary>
internal static class FreePorts
{
    /// <summary>
    /// <paramref name="count"/> distinct ports free now: their listeners are held open together until all are taken, so
    /// the system cannot hand out one of them twice. Another process could still take one before the server binds it.
    /// </summary>
    public static int[] Take(int count)
    {
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }
}
