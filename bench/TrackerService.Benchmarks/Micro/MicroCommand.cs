using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using Perfolizer.Metrology;

namespace TrackerService.Benchmarks.Micro;

/// <summary>
/// The micro-benchmarks, in this process (no per-benchmark project build, which alone would take minutes here).
/// Quick: BenchmarkDotNet's short run (3 warm-ups, 3 iterations of 200 ms); full: 3 warm-ups and 5 iterations, which keeps
/// the whole set within a few minutes. Results: a CSV per class in ns and bytes, with no units in the cells, for
/// report.py; and GitHub markdown beside it.
/// </summary>
internal static class MicroCommand
{
    public static int Run(bool quick, string artifacts, string? filter)
    {
        // Quick: iterations of 200 ms instead of 500 (the sink benchmark's are fixed at 16 batch writes anyway).
        var job = (quick ? Job.ShortRun.WithIterationTime(TimeInterval.FromMilliseconds(200)) : Job.Default.WithWarmupCount(3).WithIterationCount(5))
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId(quick ? "Quick" : "Full");
        var style = SummaryStyle.Default.WithCultureInfo(CultureInfo.InvariantCulture).WithTimeUnit(TimeUnit.Nanosecond).WithSizeUnit(SizeUnit.B);
        style = new SummaryStyle(style.CultureInfo, printUnitsInHeader: true, style.SizeUnit, style.TimeUnit, printUnitsInContent: false,
            printZeroValuesInContent: true, style.MaxParameterColumnWidth, style.RatioStyle, style.TextColumnJustification, style.NumericColumnJustification);
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(ConsoleLogger.Default)
            .AddExporter(new CsvExporter(CsvSeparator.Comma, style))
            .AddExporter(MarkdownExporter.GitHub)
            .WithArtifactsPath(artifacts)
            .WithSummaryStyle(style);
        Type[] all = [typeof(ParseBenchmarks), typeof(SegmentParseBenchmarks), typeof(QueueBenchmarks), typeof(SqliteSinkBenchmarks)];
        var types = all.Where(t => filter is null || t.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToArray();
        var summaries = BenchmarkRunner.Run(types, config);
        return summaries.All(s => !s.HasCriticalValidationErrors && s.Reports.All(r => r.Success)) ? 0 : 1;
    }
}
