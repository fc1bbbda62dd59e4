using BenchmarkDotNet.Attributes;
using TrackerService.Api;

namespace TrackerService.Benchmarks.Micro;

/// <summary>
/// Parse and validate a 100-event request body, as <c>POST /events</c> does (<see cref="EventBatchParser.Parse"/>).
/// Times and allocations are per event (OperationsPerInvoke = 100).
/// </summary>
[MemoryDiagnoser]
public class ParseBenchmarks
{
    private const int Events = 100;
    private byte[] _body = [];
    private EventBatchParser? _parser;

    [GlobalSetup]
    public void Setup()
    {
        _body = SampleEvents.Body("m-parse", 0, Events);
        _parser = new EventBatchParser(new ApiOptions(), TimeProvider.System);
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public int ParseAndValidate100()
    {
        var result = _parser!.Parse(_body);
        return result.Outcome == EventParseOutcome.Valid && result.Events.Length == Events
            ? result.Events.Length
            : throw new InvalidOperationException($"the sample body did not parse: {result.Outcome} {result.Detail}");
    }
}
