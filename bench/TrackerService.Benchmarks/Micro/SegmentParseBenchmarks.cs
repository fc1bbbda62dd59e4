using BenchmarkDotNet.Attributes;
using TrackerService.Api;

namespace TrackerService.Benchmarks.Micro;

/// <summary>
/// The Segment API's parse against <c>POST /events</c>'s on the same 100 analytics-node events (<see cref="NodeSampleEvents"/>):
/// <see cref="EventBatchParser.Parse"/> on the array, <see cref="SegmentBatchParser.Parse"/> on the <c>/v1/batch</c>
/// envelope, and that plus <see cref="SegmentEvents.Complete"/> as the intake runs it (context.ip kept, the default,
/// and left out). Times and allocations are per event (OperationsPerInvoke = 100).
/// </summary>
[MemoryDiagnoser]
public class SegmentParseBenchmarks
{
    private const int Events = 100;
    private byte[] _array = [];
    private byte[] _envelope = [];
    private EventBatchParser? _events;
    private SegmentBatchParser? _segment;

    [GlobalSetup]
    public void Setup()
    {
        _array = NodeSampleEvents.Body("m-parse", 0, Events, envelope: false);
        _envelope = NodeSampleEvents.Body("m-parse", 0, Events, envelope: true);
        _events = new EventBatchParser(new ApiOptions(), TimeProvider.System);
        _segment = new SegmentBatchParser(new ApiOptions(), TimeProvider.System);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events)]
    public int EventsParse100() => _events!.Parse(_array).Events.Length is Events ? Events : throw new InvalidOperationException("the array did not parse");

    [Benchmark(OperationsPerInvoke = Events)]
    public int SegmentParse100() => Parsed().Events.Length;

    [Benchmark(OperationsPerInvoke = Events)]
    public int SegmentParseAndComplete100WithIp() => Complete("127.0.0.1");

    [Benchmark(OperationsPerInvoke = Events)]
    public int SegmentParseAndComplete100WithoutIp() => Complete(null);

    private int Complete(string? ip)
    {
        var parsed = Parsed();
        var events = parsed.Events;
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = SegmentEvents.Complete(events[i], parsed, ip, null);
        }

        return events.Length;
    }

    private SegmentParseResult Parsed()
    {
        var parsed = _segment!.Parse(_envelope, null);
        return parsed.Events.Length == Events && parsed.Rejected == 0 ? parsed : throw new InvalidOperationException($"the envelope did not parse: {parsed.Malformed}");
    }
}
