using System.Net;
using System.Net.Sockets;
using System.Text;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>
/// The real process, its GC heap capped at 512 MiB as a container limit caps it, under a flood of connections that
/// declare a large body and send one byte of it: what they reserve must follow what they sent, not what they declared.
/// </summary>
public sealed class HeaderFloodTests : IDisposable
{
    private const int Connections = 700;

    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-flood-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    [Fact]
    public async Task SurvivesConnectionsThatDeclareLargeBodiesAndSendOneByte()
    {
        // Given the service with a 512 MiB heap, and 700 connections each declaring a 512 KiB body and sending one byte
        await using var service = await ServiceProcess.StartAsync(_folder, new Dictionary<string, string>
        {
            ["DOTNET_GCHeapHardLimit"] = "0x20000000",
        });
        var api = service.Client.BaseAddress!;
        var flood = new List<Socket>();
        try
        {
            var head = Encoding.ASCII.GetBytes(
                $"POST /events HTTP/1.1\r\nHost: {api.Authority}\r\nContent-Type: application/json\r\nContent-Length: 524288\r\n\r\n{{");
            var opening = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < Connections; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                flood.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, api.Port);
                await socket.SendAsync(head);
            }

            // When a normal request comes while they are open
            using var content = new StringContent("""{"event":"e","userId":"u","messageId":"after-flood"}""", Encoding.UTF8, "application/json");
            using var response = await service.Client.PostAsync("/events", content);

            // Then it is taken while the flood is still held (a closed connection would read as ready)
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}. Output:\n{service.Output}");
            var open = flood.Count(s => !s.Poll(0, SelectMode.SelectRead));
            if (opening.Elapsed < TimeSpan.FromSeconds(4))
            {
                // Past Kestrel's 5 s grace on the body's data rate, it rightly closes them (408); before, none may be gone.
                Assert.True(open == Connections, $"only {open} of {Connections} flood connections were still open after {opening.Elapsed}");
            }
        }
        finally
        {
            foreach (var socket in flood)
            {
                socket.Dispose();
            }
        }

        // And the process shuts down cleanly, having stored the normal event
        var (exitCode, _) = await service.TerminateAsync(Patience.Default * 2);
        Assert.True(exitCode == 0, $"exit code {exitCode}. Output:\n{service.Output}");
        Assert.DoesNotContain("OutOfMemory", service.Output, StringComparison.Ordinal);
        Assert.Equal(1, await StoreReader.CountAsync(service.DatabasePath, "message_id = 'after-flood'"));
    }
}
