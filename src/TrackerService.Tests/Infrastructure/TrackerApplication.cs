using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TrackerService.Sinks;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// The real service in memory (TestServer for the public API, a real admin listener on a free port),
/// storing into its own SQLite file in a temporary folder.
/// </summary>
internal sealed class TrackerApplication : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    private readonly bool _ownsFolder;

    /// <summary>
    /// A service whose queue holds 2 events, with one consumer writing one event at a time into <paramref name="sink"/>
    /// and requests waiting 50 ms for room: a store that holds its writes fills it with three events.
    /// </summary>
    public static TrackerApplication WithQueueOfTwo(IEventSink sink) => new(
        new()
        {
            ["Tracker:Queue:Capacity"] = "2",
            ["Tracker:Queue:EnqueueTimeout"] = "00:00:00.050",
            ["Tracker:Api:MaxBatchEvents"] = "2",
            ["Tracker:Delivery:Consumers"] = "1",
            ["Tracker:Delivery:BatchSize"] = "1",
        },
        services => services.AddSingleton(sink));

    /// <param name="folder">Where the store and spill live; by default a new temporary folder, deleted on disposal.</param>
    public TrackerApplication(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, string? folder = null)
    {
        _ownsFolder = folder is null;
        Folder = folder ?? Directory.CreateTempSubdirectory("tracker-tests-").FullName;
        DatabasePath = Path.Combine(Folder, "data", "events.db");
        _settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Sqlite"] = $"Data Source={DatabasePath}",
            ["Tracker:AdminUrl"] = "http://127.0.0.1:0",
            ["Tracker:Delivery:FlushInterval"] = "00:00:00.020",
            ["Tracker:Spill:Directory"] = Path.Combine(Folder, "data", "spill"),
            ["Tracker:Durability:Directory"] = Path.Combine(Folder, "data", "wal"), // used in Disk mode only
            ["Tracker:Auth:AllowAnonymous"] = "true", // tests post without a write key unless they are about keys
        };
        foreach (var (key, value) in settings ?? [])
        {
            _settings[key] = value;
        }

        _services = services;
    }

    public string Folder { get; }

    public string DatabasePath { get; }

    /// <summary>Rows in the store, read on a connection of its own.</summary>
    public Task<long> CountStoredAsync(string where = "1 = 1") => StoreReader.CountAsync(DatabasePath, where);

    /// <summary>Waits until the store holds <paramref name="expected"/> rows, and fails if it does not within the timeout.</summary>
    public Task WaitForStoredAsync(long expected, TimeSpan? timeout = null) => StoreReader.WaitForCountAsync(DatabasePath, expected, timeout);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        if (!_ownsFolder)
        {
            return;
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless; failing the test for it would not be.
        }
    }
}
