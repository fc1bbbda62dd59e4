using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using TrackerService.Hosting;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Spill;

/// <summary>Replay over damage: a segment that can't be read, or holds bytes that are not events, is kept aside and never deleted, and replay goes on.</summary>
public sealed partial class SpillReplayServiceTests
{
    [Fact]
    public async Task SkipsASegmentThatCantBeReadAndReplaysTheOnesBehindIt()
    {
        // Given an unreadable segment (a link to nothing) sorted before a valid one
        Directory.CreateDirectory(Store.Folder);
        var unreadable = Path.Combine(Store.Folder, "20000101T000000000-unreadable.jsonl");
        File.CreateSymbolicLink(unreadable, Path.Combine(Store.Folder, "nowhere"));
        await SpillAsync(TrackedEvents.Many(2, "behind"));
        var sink = new FakeSink();
        var service = CreateService(sink);

        // When the spill is replayed
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then the valid segment's events are stored, and the unreadable one is moved aside, not deleted
        Assert.Equal(["behind-0", "behind-1"], sink.Received);
        Assert.Empty(Store.ListSegments());
        Assert.NotNull(new FileInfo(Path.Combine(CorruptFolder, Path.GetFileName(unreadable))).LinkTarget);
    }

    [Fact]
    public async Task KeepsACorruptSegmentBesideItselfWhenCorruptIsAFileAndReplaysTheOnesBehindIt()
    {
        // Given a corrupt segment sorted first, a valid one behind it, and a file where corrupt/ would go
        Directory.CreateDirectory(Store.Folder);
        await File.WriteAllTextAsync(CorruptFolder, "a file, not a folder");
        var bad = Path.Combine(Store.Folder, "20000101T000000000-bad.jsonl");
        await File.WriteAllTextAsync(bad, "#garbage#\n");
        await SpillAsync(TrackedEvents.Many(2, "behind"));
        var sink = new FakeSink();
        var service = CreateService(sink);

        // When the spill is replayed
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then the valid segment is replayed, and the corrupt one is kept, renamed beside itself where replay no longer lists it
        Assert.Equal(["behind-0", "behind-1"], sink.Received);
        Assert.Empty(Store.ListSegments());
        Assert.Equal("#garbage#\n", await File.ReadAllTextAsync(bad + ".corrupt"));
    }

    [Theory]
    [InlineData("random")]
    [InlineData("zeros")]
    public async Task KeepsAWhollyCorruptSegmentAsideInsteadOfDeletingIt(string kind)
    {
        // Given a segment of one line of random bytes, or of 4 KB of zeros
        Directory.CreateDirectory(Store.Folder);
        var content = kind == "zeros" ? new byte[4096] : Random.Shared.GetItems<byte>([.. Enumerable.Range(0, 256).Select(b => (byte)b).Where(b => b != '\n')], 4096);
        var path = Path.Combine(Store.Folder, "20000101T000000000-wholly.jsonl");
        await File.WriteAllBytesAsync(path, content);
        var sink = new FakeSink();
        var service = CreateService(sink);

        // When the spill is replayed
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then nothing is stored and the file is kept, whole, in corrupt/
        Assert.Empty(sink.Received);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(CorruptFolder, Path.GetFileName(path))));
    }

    [Fact]
    public async Task SkipsALineLongerThanAnyEventAndKeepsTheSegmentAside()
    {
        // Given a segment with a line far longer than any event the service writes, between two events
        Directory.CreateDirectory(Store.Folder);
        var path = Path.Combine(Store.Folder, "20000101T000000000-long.jsonl");
        byte[] content = [.. TrackedEvents.Lines(TrackedEvents.Track("before")), .. Encoding.UTF8.GetBytes(new string('x', 2 << 20) + "\n"), .. TrackedEvents.Lines(TrackedEvents.Track("after"))];
        await File.WriteAllBytesAsync(path, content);
        var sink = new FakeSink();
        var service = CreateService(sink);

        // When the spill is replayed
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then the events on both sides are stored and the segment is kept aside
        Assert.Equal(["before", "after"], sink.Received);
        Assert.True(File.Exists(Path.Combine(CorruptFolder, Path.GetFileName(path))));
    }

    [Fact]
    public async Task StartsOverAPartialSegmentThatHasTheNameOfAFinishedOneAndReplaysBoth()
    {
        // Given a finished segment and, beside it, a leftover under the same name + .partial
        await SpillAsync(TrackedEvents.Many(1, "done"));
        var path = Assert.Single(Store.ListSegments());
        await File.WriteAllBytesAsync(path + ".partial", TrackedEvents.Lines(TrackedEvents.Track("leftover")));
        var sink = new FakeSink();
        var service = CreateService(sink);

        // When the service starts
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then it does not refuse to start, and both are replayed
        Assert.Equal(["done-0", "leftover"], sink.Received.Order());
        Assert.Empty(Store.ListSegments());
        Assert.Empty(Directory.GetFiles(Store.Folder, "*.partial"));
    }

    [Fact]
    public async Task SendsSpilledEventsThatBreakTheIntakesRulesToTheDeadLetterTableAndStoresTheRest()
    {
        // Given a segment holding a valid event, one with a 10,000-character userId, one with a NUL in it, and one with no user id
        var valid = TrackedEvents.Track("valid");
        var tooLong = TrackedEvents.Track("too-long") with { UserId = new string('u', 10_000) };
        var nul = TrackedEvents.Track("nul") with { UserId = "a\0b" };
        var nobody = TrackedEvents.Track("nobody") with { UserId = null };
        await SpillAsync([valid, tooLong, nul, nobody]);
        var path = Assert.Single(Store.ListSegments());
        var sink = new FakeSink();
        var service = CreateService(sink, batchSize: 10, contract: new IntakeEventContract());
        using var rejected = new CounterRecorder(_provider.GetRequiredService<IMeterFactory>(), "tracker.events.rejected");

        // When the spill is replayed
        await service.StartAsync(CancellationToken.None);
        await service.Completion.WaitAsync(Patience.Default);

        // Then only the valid event is stored, the others are in the dead-letter table with their line, field and
        // reason, and the segment, every line of which is accounted for, is deleted
        Assert.Equal(["valid"], sink.Received);
        Assert.Equal(["too-long", "nul", "nobody"], sink.Rejected.Select(r => r.MessageId));
        Assert.All(sink.Rejected, r => Assert.Equal("userId", r.Field));
        Assert.All(sink.Rejected, r => Assert.False(string.IsNullOrEmpty(r.Reason)));
        Assert.Contains("\"messageId\":\"too-long\"", sink.Rejected[0].Raw, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
        Assert.Equal(["3 reason=replay_invalid"], rejected.Measurements);
    }
}
