using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using TrackerService.Lifecycle;
using TrackerService.Pipeline;
using TrackerService.Sinks;
using TrackerService.Telemetry;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Telemetry;

/// <summary>
/// What the service tells its tracing and metrics backends, read through OpenTelemetry's in-memory exporter
/// from the real service in memory.
/// </summary>
/// <remarks>
/// The service's <see cref="ActivitySource"/> and its meter's name are process-wide: a tracer provider in one
/// host also sees the spans of every other host in the test process. These tests run alone for that reason.
/// </remarks>
[Collection(RunsAlone.Name)]
public sealed class TrackerTelemetryTests
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly List<MetricSnapshot> _metrics = [];

    [Fact]
    public async Task ADeliveredBatchHasItsSpanLinkedToTheRequestsWhoseEventsItCarries()
    {
        // Given the service on SQLite, with batches large enough to take several requests
        using var app = CreateApplication(new() { ["Tracker:Delivery:FlushInterval"] = "00:00:00.100" });
        using var client = app.CreateClient();

        // When three requests carry 2, 1 and 3 events and they are stored
        foreach (var (count, prefix) in new[] { (2, "first"), (1, "second"), (3, "third") })
        {
            (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(count, prefix)))).EnsureSuccessStatusCode();
        }

        await app.WaitForStoredAsync(6);

        // Then the batch spans carry all 6 events, say where and how they went, and link to the 3 request spans
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Batches().Sum(Size) == 6), Patience.Default), "batch spans for 6 events");
        var requests = _spans.Where(s => s.Kind == ActivityKind.Server && s.DisplayName == "POST /events").ToArray();
        Assert.Equal(3, requests.Length);
        Assert.All(Batches(), batch =>
        {
            Assert.Equal("sqlite", batch.GetTagItem(TrackerTelemetry.TagSink));
            Assert.Equal(1, batch.GetTagItem(TrackerTelemetry.TagBatchAttempts));
            Assert.Equal(TrackerTelemetry.OutcomeStored, batch.GetTagItem(TrackerTelemetry.TagBatchOutcome));
            Assert.Equal(Size(batch), batch.GetTagItem(TrackerTelemetry.TagBatchStored));
            Assert.Equal(batch.Links.Count(), batch.GetTagItem(TrackerTelemetry.TagBatchRequests));
            Assert.Equal(ActivityKind.Consumer, batch.Kind);
        });
        Assert.Equal(
            requests.Select(r => r.Context).OrderBy(c => c.SpanId.ToHexString()),
            Batches().SelectMany(b => b.Links).Select(l => l.Context).Distinct().OrderBy(c => c.SpanId.ToHexString()));
    }

    [Fact]
    public async Task ABatchThatWasRetriedCountsEveryAttempt()
    {
        // Given a store that fails twice with a transient error before it takes a write
        var sink = new FakeSink { Name = "flaky" }
            .Failing(() => new TimeoutException("The store is busy."), writes: 2)
            .TransientWhen(ex => ex is TimeoutException);
        using var app = CreateApplication(
            new() { ["Tracker:Sink:RetryBaseDelay"] = "00:00:00.001", ["Tracker:Sink:RetryMaxDelay"] = "00:00:00.010" },
            services => services.AddSingleton<IEventSink>(sink));
        using var client = app.CreateClient();

        // When an event is posted and stored
        (await client.PostAsync("/events", Bodies.Json(Bodies.Track("retried")))).EnsureSuccessStatusCode();

        // Then its batch span says 3 attempts and stored
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Batches().Any()), Patience.Default), "a batch span");
        var batch = Assert.Single(Batches());
        Assert.Equal(3, batch.GetTagItem(TrackerTelemetry.TagBatchAttempts));
        Assert.Equal(TrackerTelemetry.OutcomeStored, batch.GetTagItem(TrackerTelemetry.TagBatchOutcome));
        Assert.Equal("flaky", batch.GetTagItem(TrackerTelemetry.TagSink));
        Assert.Equal(["retried"], sink.Received);
    }

    [Fact]
    public async Task AShutdownIsOneSpanWithItsPhasesAndCountsAndItsFinalBatchesInside()
    {
        // Given one consumer writing batches of 2, held by the store on its first batch, with 6 events accepted
        var sink = new FakeSink().HoldingWrites();
        using var app = CreateApplication(
            new() { ["Tracker:Delivery:Consumers"] = "1", ["Tracker:Delivery:BatchSize"] = "2" },
            services => services.AddSingleton<IEventSink>(sink));
        using var client = app.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(2, $"request-{i}")))).EnsureSuccessStatusCode();
        }

        await sink.FirstWrite.WaitAsync(Patience.Default);

        // When the service is stopped and the store lets go once the drain has begun
        var stopping = StopAsync(app);
        var delivery = app.Services.GetRequiredService<DeliveryService>();
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(delivery.IsDraining), Patience.Default), "the drain began");
        sink.Open();
        await stopping.WaitAsync(Patience.Default);

        // Then one tracker.shutdown span has every phase and the counts
        var shutdown = Assert.Single(_spans, s => s.OperationName == TrackerTelemetry.SpanShutdown);
        Assert.Equal(
            ["readiness.off", "intake.stopped", "queue.completed", "drain.finished", "spill.written"],
            shutdown.Events.Select(e => e.Name));
        Assert.Equal(6, shutdown.GetTagItem("tracker.shutdown.queued_at_start"));
        Assert.Equal(6L, shutdown.GetTagItem("tracker.shutdown.drained"));
        Assert.Equal(0, shutdown.GetTagItem("tracker.shutdown.spilled"));
        Assert.Equal("drained", shutdown.GetTagItem("tracker.shutdown.outcome"));

        // And the batches written by the drain (all but the one held when it began) are inside the shutdown's trace
        var inside = Batches().Where(b => b.ParentSpanId == shutdown.SpanId && b.TraceId == shutdown.TraceId).ToArray();
        Assert.Equal(4, inside.Sum(Size));
        Assert.All(inside, b => Assert.Equal(TrackerTelemetry.OutcomeStored, b.GetTagItem(TrackerTelemetry.TagBatchOutcome)));
        Assert.Equal(6, sink.Stored.Count);
    }

    [Fact]
    public async Task MetricsCountTheEventsAcceptedRejectedAndStored()
    {
        // Given the service on SQLite
        using var app = CreateApplication();
        using var client = app.CreateClient();

        // When 5 events are accepted in two requests, and a request with an invalid event is refused
        (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(3, "a")))).EnsureSuccessStatusCode();
        (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(2, "b")))).EnsureSuccessStatusCode();
        using var invalid = await client.PostAsync("/events", Bodies.Json(new object[] { Bodies.Track("ok"), new { userId = "no-event-name" } }));
        Assert.False(invalid.IsSuccessStatusCode);
        await app.WaitForStoredAsync(5);

        // Then the exported counters say the same (stored once the write has been counted)
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Sum(app, "tracker.events.stored") == 5), Patience.Default), "5 stored");
        Assert.Equal(5, Sum(app, "tracker.events.accepted"));
        Assert.Equal(2, Sum(app, "tracker.events.rejected", ("reason", TrackerTelemetry.ReasonInvalid)));
        Assert.Equal(0, Sum(app, "tracker.events.spilled"));
    }

    [Fact]
    public async Task MetricsCountTheEventsSpilledAtTheDeadline()
    {
        // Given a store that never answers, a 1 s shutdown budget and 4 events accepted
        var sink = new FakeSink().HoldingWrites();
        using var app = CreateApplication(new() { ["Tracker:Shutdown:Timeout"] = "00:00:01" }, services => services.AddSingleton<IEventSink>(sink));
        using var client = app.CreateClient();
        (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(4, "held")))).EnsureSuccessStatusCode();
        await sink.FirstWrite.WaitAsync(Patience.Default);
        var meters = app.Services.GetRequiredService<MeterProvider>();

        // When the service is stopped
        await StopAsync(app).WaitAsync(Patience.Default);

        // Then the metrics say 4 accepted, 4 spilled, none stored, and so does the shutdown span
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(Sum(meters, "tracker.events.spilled") == 4), Patience.Default), "4 spilled");
        Assert.Equal(4, Sum(meters, "tracker.events.accepted"));
        Assert.Equal(0, Sum(meters, "tracker.events.stored"));
        var shutdown = Assert.Single(_spans, s => s.OperationName == TrackerTelemetry.SpanShutdown);
        Assert.Equal(4, shutdown.GetTagItem("tracker.shutdown.spilled"));
        Assert.Contains(shutdown.Events, e => e.Name == "deadline.reached");

        // And the spill's write is a span inside the shutdown's trace, and the cut-short batch says so
        var spill = Assert.Single(_spans, s => s.OperationName == TrackerTelemetry.SpanSpillWrite);
        Assert.Equal(shutdown.SpanId, spill.ParentSpanId);
        Assert.Equal(4, spill.GetTagItem(TrackerTelemetry.TagSpillEvents));
        Assert.Equal(TrackerTelemetry.OutcomeCancelled, Assert.Single(Batches()).GetTagItem(TrackerTelemetry.TagBatchOutcome));
    }

    [Fact]
    public async Task PrometheusScrapeShowsTheCountersWithTheEventsSentAndTheRuntimesMetrics()
    {
        // Given the service, 7 events accepted and stored, and a request of 3 events refused as invalid
        using var app = CreateApplication();
        using var client = app.CreateClient();
        (await client.PostAsync("/events", Bodies.Json(Bodies.Batch(7, "scraped")))).EnsureSuccessStatusCode();
        using var invalid = await client.PostAsync("/events", Bodies.Json(new object[] { Bodies.Track("a"), new { @event = "no-user" }, Bodies.Track("b") }));
        Assert.False(invalid.IsSuccessStatusCode);
        await app.WaitForStoredAsync(7);
        using var admin = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.Single()) };

        // When /metrics on the admin listener is scraped (once the batch's write has been counted)
        var text = "";
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            text = await admin.GetStringAsync("/metrics");
            return Sample(text, "tracker_events_stored_total") == 7;
        }, Patience.Default), $"tracker_events_stored_total 7 in:\n{text}");

        // Then the tracker's counters have exactly the values sent, next to the runtime's and ASP.NET Core's metrics
        Assert.Equal(7, Sample(text, "tracker_events_accepted_total"));
        Assert.Equal(3, Sample(text, "tracker_events_rejected_total", "reason=\"invalid\""));
        Assert.Equal(0, Sample(text, "tracker_queue_depth"));
        Assert.Equal(new QueueOptions().Capacity, Sample(text, "tracker_queue_capacity"));
        Assert.Equal(0, Sample(text, "tracker_queue_memory_bytes"));
        Assert.Equal(new QueueOptions().MaxBytes, Sample(text, "tracker_queue_memory_limit_bytes"));
        Assert.Contains("\ndotnet_gc_collections_total", text, StringComparison.Ordinal);
        Assert.Contains("\nhttp_server_request_duration_seconds_bucket", text, StringComparison.Ordinal);
    }

    private static double? Sample(string prometheusText, string metric, string label = "") => Prometheus.Sample(prometheusText, metric, label);

    private TrackerApplication CreateApplication(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null) =>
        new(new Dictionary<string, string?>(settings ?? []) { [OpenTelemetryExtensions.TracingSetting] = "true" }, s =>
        {
            services?.Invoke(s);
            s.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(new SpanCollection(_spans)));
            s.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(_metrics));
        });

    private IEnumerable<Activity> Batches() => _spans.Where(s => s.OperationName == TrackerTelemetry.SpanBatch);

    private static int Size(Activity batch) => (int)batch.GetTagItem(TrackerTelemetry.TagBatchSize)!;

    /// <summary>Stops the host as a signal would; completes when it has stopped.</summary>
    private static Task StopAsync(TrackerApplication app)
    {
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStopped.Register(stopped.SetResult);
        lifetime.StopApplication();
        return stopped.Task;
    }

    /// <summary>A counter's total as exported now, over the points whose tags include <paramref name="tag"/>.</summary>
    private long Sum(TrackerApplication app, string name, (string Key, string Value)? tag = null) =>
        Sum(app.Services.GetRequiredService<MeterProvider>(), name, tag);

    /// <inheritdoc cref="Sum(TrackerApplication, string, ValueTuple{string, string}?)"/>
    private long Sum(MeterProvider meters, string name, (string Key, string Value)? tag = null)
    {
        // The result is not asserted: the Prometheus reader, which only answers scrapes, reports false; so
        // does a provider already disposed with its host, whose final export is then the last one.
        meters.ForceFlush(5000);
        return LastExported(name, tag);
    }

    /// <summary>A counter's total in the last export, e.g. the final one made when the stopped host disposed its providers.</summary>
    private long LastExported(string name, (string Key, string Value)? tag = null)
    {
        lock (_metrics)
        {
            var metric = _metrics.LastOrDefault(m => m.Name == name);
            long sum = 0;
            foreach (var point in metric?.MetricPoints ?? [])
            {
                var tags = new List<KeyValuePair<string, object?>>();
                foreach (var t in point.Tags)
                {
                    tags.Add(t);
                }

                if (tag is not { } wanted || tags.Contains(new(wanted.Key, wanted.Value)))
                {
                    sum += point.GetSumLong();
                }
            }

            return sum;
        }
    }
}

/// <summary>Tests that see process-wide telemetry: xunit runs them after the others, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "Runs alone";
}
