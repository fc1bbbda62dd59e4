using System.Buffers;
using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Sinks;
using TrackerService.Spill;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Spill;

/// <summary>The spill against a disk that refuses writes, segment size, the line format, and what the store's disk errors mean.</summary>
public sealed class SpillDiskFaultTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("spill-disk-tests-");
    private readonly FakeTimeProvider _time = new(TrackedEvents.ReceivedAt);
    private string? _mount;

    private string Folder => Path.Combine(_temp.FullName, "spill");

    public void Dispose()
    {
        if (_mount is not null)
        {
            Shell.Run("umount", _mount);
        }

        _temp.Delete(recursive: true);
    }

    [Fact]
    public async Task CountsAWriteTheDiskRefusesAsFullInsteadOfThrowing()
    {
        // Given a spill whose folder can't be created (a file has its name)
        await File.WriteAllTextAsync(Folder, "a file");
        var store = Create();

        // When a batch is offered to it
        var written = await store.TryWriteAsync(TrackedEvents.Many(3, "x"), CancellationToken.None);

        // Then it says full, and says why
        Assert.False(written);
        Assert.NotNull(store.Refusal);
    }

    [SkippableFact]
    public async Task LeavesNoPartialSegmentOnAFullDiskAndKeepsAtShutdownWhatFitsOnceSpaceComesBack()
    {
        // Given a spill on a 256 KB filesystem that a filler has filled
        Directory.CreateDirectory(Folder);
        Skip.IfNot(Shell.Run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", Folder), "tmpfs can't be mounted here (needs root and a kernel that allows it)");
        _mount = Folder;
        var filler = Path.Combine(Folder, "filler");
        await FillAsync(filler);

        // (on the real clock: the shutdown spill pauses between retries, and a fake clock would hold it there)
        var store = Create(time: TimeProvider.System);
        var events = TrackedEvents.Many(1_000, "k");

        // When a batch is offered, Then it is refused and nothing half-written is left
        Assert.False(await store.TryWriteAsync(events, CancellationToken.None));
        Assert.Empty(Directory.GetFiles(Folder, "*.partial"));
        Assert.Empty(store.ListSegments());

        // When the shutdown spill runs and space comes back while it retries
        using var deadline = new CancellationTokenSource(Patience.Default);
        var keeping = store.KeepAsync(events, deadline.Token);
        File.Delete(filler);
        var kept = await keeping;

        // Then every event is kept, in complete segments
        Assert.Equal(events.Length, kept.Events);
        Assert.Null(kept.LastError);
        Assert.Equal(events.Length, StoreReader.CountSpilledEvents(Folder));
        Assert.Empty(Directory.GetFiles(Folder, "*.partial"));
    }

    [SkippableFact]
    public async Task KeepsWhatFitsByTheDeadlineAndSaysHowManyItCouldNot()
    {
        // Given a spill on a 256 KB filesystem and more events than fit on it
        Directory.CreateDirectory(Folder);
        Skip.IfNot(Shell.Run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", Folder), "tmpfs can't be mounted here (needs root and a kernel that allows it)");
        _mount = Folder;
        var store = Create();
        var events = TrackedEvents.Many(5_000, "f");

        // When the shutdown spill runs with a 1 s deadline
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        var kept = await store.KeepAsync(events, deadline.Token);

        // Then it stops at the deadline, having kept some, exactly as many as the segments hold, and says why not the rest
        Assert.InRange(kept.Events, 1, events.Length - 1);
        Assert.True(clock.Elapsed < Patience.Default);
        Assert.IsAssignableFrom<IOException>(kept.LastError);
        Assert.Equal(kept.Events, StoreReader.CountSpilledEvents(Folder));
        Assert.Empty(Directory.GetFiles(Folder, "*.partial"));
    }

    [Fact]
    public async Task SplitsASpillIntoSegmentsOfAtMostMaxSegmentBytes()
    {
        // Given a 64 KiB segment cap and about 1 MB of events
        var store = Create(new SpillOptions { Directory = Folder, MaxSegmentBytes = 64 * 1024 });
        var events = TrackedEvents.Many(1_000, "s").Select(e => e with { Properties = $$"""{"pad":"{{new string('p', 900)}}"}""" }).ToArray();

        // When they are spilled
        await store.WriteAsync(events);

        // Then they are in many segments, none much over the cap, every event once, in order
        var segments = store.ListSegments();
        Assert.True(segments.Count >= 10, $"{segments.Count} segments");
        Assert.All(segments, s => Assert.True(new FileInfo(s).Length <= (64 * 1024) + 2048, $"{s}: {new FileInfo(s).Length} bytes"));
        var read = new List<string>();
        foreach (var segment in segments)
        {
            read.AddRange((await SpillStore.ReadAsync(segment, CancellationToken.None)).Events.Select(e => e.MessageId));
        }

        Assert.Equal(events.Select(e => e.MessageId), read);
    }

    [Fact]
    public void WritesAnEventsObjectsAsTheyCameWithoutEscapingQuotes()
    {
        // Given an event of 2,150 short properties (about 32 KB of JSON, mostly quotes)
        var properties = "{" + string.Join(",", Enumerable.Range(0, 2_150).Select(i => $"\"p{i}\":\"v\"")) + "}";
        var e = TrackedEvents.Track("big") with { Properties = properties };

        // When it is spilled
        var buffer = new ArrayBufferWriter<byte>();
        SpillFormat.Write(buffer, e);

        // Then its line holds the object as it came, barely bigger than the object, and reads back the same
        var line = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.Contains("\"properties\":" + properties, line, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0022", line, StringComparison.Ordinal);
        Assert.True(buffer.WrittenCount < properties.Length + 300, $"{buffer.WrittenCount} bytes for {properties.Length}");
        Assert.Equal(e, SpillFormat.Read(buffer.WrittenSpan[..^1]));
    }

    [Fact]
    public void ReadsALineInTheFormerFormatWithObjectsAsEscapedStrings()
    {
        // Given a line as the service wrote them before (objects as strings, quotes as \u0022)
        var line = """{"messageId":"old","type":"track","event":"Clicked","userId":"user-1","receivedAt":"2026-03-01T12:00:00+00:00","properties":"{\u0022button\u0022:\u0022buy\u0022}"}""";

        // When it is read, Then it is the event it was
        Assert.Equal(TrackedEvents.Track("old"), SpillFormat.Read(Encoding.UTF8.GetBytes(line)));
    }

    [Theory]
    [InlineData(8)] // SQLITE_READONLY
    [InlineData(8 | (1 << 8))] // SQLITE_READONLY_RECOVERY
    [InlineData(14)] // SQLITE_CANTOPEN
    [InlineData(10)] // SQLITE_IOERR
    [InlineData(10 | (3 << 8))] // SQLITE_IOERR_WRITE
    [InlineData(13)] // SQLITE_FULL
    public async Task TakesTheStoresDiskErrorsForAnUnavailableStoreNotABrokenOne(int code)
    {
        await using var sink = new SqliteEventSink(new ConfigurationBuilder().Build(), Microsoft.Extensions.Options.Options.Create(new SinkOptions()), NullLogger<SqliteEventSink>.Instance);
        Assert.True(sink.IsTransient(new SqliteException("disk", code, code)));
        Assert.True(sink.IsTransient(new SqliteException("disk", code & 0xFF, code)));
    }

    [Fact]
    public void RefusesASpillFolderThatCantBeWrittenNamingThePath()
    {
        // Given a spill path that is a regular file
        File.WriteAllText(Folder, "a file");

        // When the folder is checked at start
        var result = new SpillFolderCheck().Validate(null, new SpillOptions { Directory = Folder });

        // Then it fails with one message naming the key and the path
        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Tracker:Spill:Directory", failure, StringComparison.Ordinal);
        Assert.Contains(Folder, failure, StringComparison.Ordinal);
    }

    private SpillStore Create(SpillOptions? options = null, TimeProvider? time = null) =>
        new(Microsoft.Extensions.Options.Options.Create(options ?? new SpillOptions { Directory = Folder }), time ?? _time, NullLogger<SpillStore>.Instance);

    private static async Task FillAsync(string path)
    {
        await using var file = new FileStream(path, FileMode.CreateNew);
        var chunk = new byte[4096];
        try
        {
            while (true)
            {
                await file.WriteAsync(chunk);
                await file.FlushAsync();
            }
        }
        catch (IOException)
        {
            // full
        }
    }
}
