using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TrackerService.Events;
using TrackerService.Spill;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Spill;

/// <summary>Segments in a real temporary folder.</summary>
public sealed class SpillStoreTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("spill-store-tests-");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public SpillStoreTests()
    {
        Folder = Path.Combine(_temp.FullName, "spill");
        Store = CreateStore(_time);
    }

    private string Folder { get; }

    private SpillStore Store { get; }

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public async Task WritesEventsToOneNewSegmentWithOneLineEach()
    {
        // Given more events than fit in one 60 KiB write, and no spill folder yet
        var events = TrackedEvents.Many(600, "w").Select(e => e with { Properties = $$"""{"padding":"{{new string('x', 100)}}"}""" }).ToArray();
        Assert.False(Directory.Exists(Folder));

        // When they are spilled
        await Store.WriteAsync(events);

        // Then the folder holds one segment, named for the time of writing, of one line per event, in order
        var segment = Assert.Single(Directory.GetFiles(Folder));
        Assert.EndsWith(".jsonl", segment, StringComparison.Ordinal);
        Assert.StartsWith("20260301T120000000-", Path.GetFileName(segment), StringComparison.Ordinal);
        Assert.True(new FileInfo(segment).Length > 64 * 1024);
        var text = await File.ReadAllTextAsync(segment);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var lines = text[..^1].Split('\n');
        Assert.Equal(events.Length, lines.Length);
        Assert.Equal<TrackedEvent?>(events, lines.Select(l => SpillFormat.Read(Encoding.UTF8.GetBytes(l))));
    }

    [Fact]
    public async Task WritesNothingForNoEvents()
    {
        // Given no spill folder yet

        // When an empty collection is spilled
        await Store.WriteAsync([]);

        // Then no folder and no segment is created
        Assert.False(Directory.Exists(Folder));
        Assert.Empty(Store.ListSegments());
    }

    [Fact]
    public async Task ListsSegmentsOldestFirst()
    {
        // Given segments written out of order by clocks at different times, across a second and a day boundary
        var times = new[]
        {
            new DateTimeOffset(2026, 3, 2, 0, 0, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2026, 3, 1, 23, 59, 59, 999, TimeSpan.Zero),
            new DateTimeOffset(2026, 3, 2, 0, 0, 0, 1, TimeSpan.Zero),
            new DateTimeOffset(2026, 2, 28, 9, 0, 0, TimeSpan.Zero),
        };
        foreach (var time in times)
        {
            await CreateStore(new FakeTimeProvider(time)).WriteAsync([TrackedEvents.Track($"{time:O}")]);
        }

        // When the segments are listed
        var segments = Store.ListSegments();

        // Then they come oldest first
        var firstEvents = new List<string>();
        foreach (var segment in segments)
        {
            firstEvents.Add((await SpillStore.ReadAsync(segment, CancellationToken.None)).Events[0].MessageId);
        }

        Assert.Equal(times.Order().Select(t => $"{t:O}"), firstEvents);
    }

    [Fact]
    public async Task ListsSegmentsWrittenOneAfterAnotherInTheOrderTheyWereWritten()
    {
        // Given three segments written by one store as its clock moves on
        for (var i = 0; i < 3; i++)
        {
            await Store.WriteAsync(TrackedEvents.Many(2, $"s{i}"));
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        // When the segments are listed
        var segments = Store.ListSegments();

        // Then they come in the order they were written, with full paths
        Assert.Equal(3, segments.Count);
        Assert.All(segments, s => Assert.Equal(Folder, Path.GetDirectoryName(s)));
        var events = new List<string>();
        foreach (var segment in segments)
        {
            events.AddRange((await SpillStore.ReadAsync(segment, CancellationToken.None)).Events.Select(e => e.MessageId));
        }

        Assert.Equal(["s0-0", "s0-1", "s1-0", "s1-1", "s2-0", "s2-1"], events);
    }

    [Fact]
    public void ListsNoSegmentsWhenTheFolderDoesNotExist()
    {
        Assert.False(Directory.Exists(Folder));
        Assert.Empty(Store.ListSegments());
    }

    [Fact]
    public async Task ListsOnlySegmentFiles()
    {
        // Given a segment, a stray file of another kind, and a file already moved aside
        await Store.WriteAsync(TrackedEvents.Many(1, "kept"));
        await File.WriteAllTextAsync(Path.Combine(Folder, "notes.txt"), "not a segment");
        Directory.CreateDirectory(Path.Combine(Folder, "corrupt"));
        await File.WriteAllBytesAsync(Path.Combine(Folder, "corrupt", "20200101T000000000-x.jsonl"), TrackedEvents.Lines(TrackedEvents.Track("old")));

        // When the segments are listed, Then only the segment is
        var segment = Assert.Single(Store.ListSegments());
        Assert.Equal("kept-0", Assert.Single((await SpillStore.ReadAsync(segment, CancellationToken.None)).Events).MessageId);
    }

    [Fact]
    public async Task ReadsBackTheEventsInOrder()
    {
        // Given a spilled batch
        var events = TrackedEvents.Many(25, "r");
        await Store.WriteAsync(events);
        var path = Assert.Single(Store.ListSegments());

        // When the segment is read
        var segment = await SpillStore.ReadAsync(path, CancellationToken.None);

        // Then it holds the events in order and nothing is amiss
        Assert.Equal(path, segment.Path);
        Assert.Equal(events, segment.Events);
        Assert.False(segment.TornTail);
        Assert.False(segment.Corrupt);
    }

    [Fact]
    public async Task ReadsBackAnEventWhoseRawJsonSpansLines()
    {
        // Given a spilled batch with an event whose properties the client sent pretty-printed
        var events = new[]
        {
            TrackedEvents.Track("before"),
            TrackedEvents.Track("pretty") with { Properties = "{\n  \"button\": \"buy\",\n  \"n\": [\n    1\n  ]\n}" },
            TrackedEvents.Track("after"),
        };
        await Store.WriteAsync(events);

        // When the segment is read
        var segment = await SpillStore.ReadAsync(Assert.Single(Store.ListSegments()), CancellationToken.None);

        // Then every event is there and the segment is sound
        Assert.Equal(events, segment.Events);
        Assert.False(segment.Corrupt);
        Assert.False(segment.TornTail);
    }

    [Fact]
    public async Task SkipsATornTailAndKeepsTheCompleteEvents()
    {
        // Given a segment whose last write was cut short halfway through a line
        var events = TrackedEvents.Many(3, "t");
        await Store.WriteAsync(events);
        var path = Assert.Single(Store.ListSegments());
        var torn = TrackedEvents.Lines(TrackedEvents.Track("torn"));
        await AppendAsync(path, torn[..(torn.Length / 2)]);

        // When the segment is read
        var segment = await SpillStore.ReadAsync(path, CancellationToken.None);

        // Then the complete events are returned, and the tail is reported torn, not corrupt
        Assert.Equal(events, segment.Events);
        Assert.True(segment.TornTail);
        Assert.False(segment.Corrupt);
    }

    [Fact]
    public async Task ReadsACompleteLastLineWithoutItsNewline()
    {
        // Given a segment whose last line lost only its newline
        var events = TrackedEvents.Many(2, "n");
        var path = await WriteSegmentAsync(TrackedEvents.Lines(events)[..^1]);

        // When the segment is read
        var segment = await SpillStore.ReadAsync(path, CancellationToken.None);

        // Then both events are returned and nothing is amiss
        Assert.Equal(events, segment.Events);
        Assert.False(segment.TornTail);
        Assert.False(segment.Corrupt);
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("{\"messageId\":\"half\",\"ty")]
    [InlineData("{\"messageId\":\"m\",\"type\":\"unknown\",\"receivedAt\":\"2026-03-01T12:00:00Z\"}")]
    public async Task ReadsAroundABadLineInTheMiddleAndReportsTheSegmentCorrupt(string badLine)
    {
        // Given a segment with a bad line between good ones
        var before = TrackedEvents.Many(2, "before");
        var after = TrackedEvents.Many(2, "after");
        var path = await WriteSegmentAsync([.. TrackedEvents.Lines(before), .. Encoding.UTF8.GetBytes(badLine + "\n"), .. TrackedEvents.Lines(after)]);

        // When the segment is read
        var segment = await SpillStore.ReadAsync(path, CancellationToken.None);

        // Then the valid events before and after it are returned, and the segment is corrupt, its tail not torn
        Assert.Equal([.. before, .. after], segment.Events);
        Assert.True(segment.Corrupt);
        Assert.False(segment.TornTail);
    }

    [Fact]
    public async Task IgnoresBlankLines()
    {
        // Given a segment with empty lines at the start, between events and at the end, some with CRLF endings
        var events = TrackedEvents.Many(3, "b");
        byte[] content =
        [
            .. "\n\r\n"u8,
            .. TrackedEvents.Lines(events[0]),
            .. "\n\n"u8,
            .. TrackedEvents.Lines(events[1])[..^1], .. "\r\n"u8,
            .. "\r\n"u8,
            .. TrackedEvents.Lines(events[2]),
            .. "\n\n"u8,
        ];
        var path = await WriteSegmentAsync(content);

        // When the segment is read
        var segment = await SpillStore.ReadAsync(path, CancellationToken.None);

        // Then the events are returned and nothing is amiss
        Assert.Equal(events, segment.Events);
        Assert.False(segment.TornTail);
        Assert.False(segment.Corrupt);
    }

    [Fact]
    public async Task ReadsAnEmptySegmentAsNoEvents()
    {
        // Given an empty segment file
        var path = await WriteSegmentAsync([]);

        // When it is read
        var segment = await SpillStore.ReadAsync(path, CancellationToken.None);

        // Then it holds nothing and nothing is amiss
        Assert.Empty(segment.Events);
        Assert.False(segment.TornTail);
        Assert.False(segment.Corrupt);
    }

    [Fact]
    public async Task MovesASegmentAsideIntoCorruptWhereItIsNoLongerListed()
    {
        // Given a segment
        await Store.WriteAsync(TrackedEvents.Many(2, "m"));
        var path = Assert.Single(Store.ListSegments());
        var content = await File.ReadAllBytesAsync(path);

        // When it is moved aside
        var movedTo = Store.MoveAside(path);

        // Then it is in <folder>/corrupt/ under the same name and content, gone from its place and from the list
        Assert.Equal(Path.Combine(Folder, "corrupt", Path.GetFileName(path)), movedTo);
        Assert.Equal(content, await File.ReadAllBytesAsync(movedTo));
        Assert.False(File.Exists(path));
        Assert.Empty(Store.ListSegments());
    }

    [Fact]
    public async Task DeletesASegment()
    {
        // Given two segments
        await Store.WriteAsync(TrackedEvents.Many(2, "d1"));
        _time.Advance(TimeSpan.FromSeconds(1));
        await Store.WriteAsync(TrackedEvents.Many(2, "d2"));
        var segments = Store.ListSegments();
        Assert.Equal(2, segments.Count);

        // When the first is deleted
        Store.Delete(segments[0]);

        // Then only the second is left
        Assert.False(File.Exists(segments[0]));
        Assert.Equal([segments[1]], Store.ListSegments());
    }

    private SpillStore CreateStore(TimeProvider time) =>
        new(Microsoft.Extensions.Options.Options.Create(new SpillOptions { Directory = Folder }), time, NullLogger<SpillStore>.Instance);

    /// <summary>A segment file with exactly these bytes, named as the store names them.</summary>
    private async Task<string> WriteSegmentAsync(byte[] content)
    {
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, $"{_time.GetUtcNow():yyyyMMdd'T'HHmmssfff}-{Guid.CreateVersion7():N}.jsonl");
        await File.WriteAllBytesAsync(path, content);
        return path;
    }

    private static async Task AppendAsync(string path, byte[] bytes)
    {
        await using var file = new FileStream(path, FileMode.Append, FileAccess.Write);
        await file.WriteAsync(bytes);
    }
}
