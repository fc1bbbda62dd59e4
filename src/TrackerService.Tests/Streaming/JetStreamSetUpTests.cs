using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using TrackerService.Streaming;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Streaming;

/// <summary>
/// The start's set-up of the stream when JetStream is slow to answer: a real nats-server, reached, then frozen
/// (SIGSTOP) so that its answers wait, as on a busy machine or a slow disk.
/// </summary>
public sealed class JetStreamSetUpTests : IAsyncLifetime, IDisposable
{
    private readonly FakeLoggerProvider _logs = new();
    private NatsServer _server = null!;

    public async Task InitializeAsync() => _server = await NatsServer.StartAsync();

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    public void Dispose() => _logs.Dispose();

    [Fact]
    public async Task AStreamThatAnswersLaterThanThePublishTimeoutIsSetUpByAskingAgain()
    {
        // Given a connection with a short publish timeout (each ask of the set-up waits as long), to a server that
        // stops answering once connected
        await using var connection = Connect(TimeSpan.FromSeconds(30));
        await connection.Connection.ConnectAsync();
        _server.Freeze();
        Task setUp;
        try
        {
            // When the start sets the stream up, and the server answers only after the first ask has timed out
            setUp = connection.EnsureStreamAsync(CancellationToken.None);
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(AsksAgain() > 0), Patience.Default), "the set-up did not ask again");
        }
        finally
        {
            _server.Thaw();
        }

        // Then the set-up completes, and the stream is there
        await setUp.WaitAsync(TimeSpan.FromSeconds(30));
        var stream = await connection.JetStream.GetStreamAsync(connection.Options.Stream);
        Assert.Equal(connection.Options.Stream, stream.Info.Config.Name);
    }

    [Fact]
    public async Task AJetStreamThatNeverAnswersStopsTheStartAfterTheStartTimeoutWithALineThatSaysSo()
    {
        // Given a connection whose start may take 2 s, to a server that stops answering once connected
        await using var connection = Connect(TimeSpan.FromSeconds(2));
        await connection.Connection.ConnectAsync();
        _server.Freeze();
        try
        {
            // When the start sets the stream up
            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<JetStreamStartException>(() => connection.EnsureStreamAsync(CancellationToken.None));

            // Then it has asked more than once, for about the start timeout, and fails saying JetStream did not answer
            Assert.True(error.Unanswered);
            Assert.Contains($"JetStream at {_server.Url} did not answer for stream {connection.Options.Stream}", error.Message, StringComparison.Ordinal);
            Assert.True(AsksAgain() >= 1, "it did not ask again");
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(20));
        }
        finally
        {
            _server.Thaw();
        }
    }

    private JetStreamConnection Connect(TimeSpan startTimeout) => new(
        Microsoft.Extensions.Options.Options.Create(new JetStreamOptions
        {
            Url = _server.Url,
            PublishTimeout = TimeSpan.FromMilliseconds(500),
            StartTimeout = startTimeout,
        }),
        new LoggerFactory([_logs]));

    private int AsksAgain() => _logs.Collector.GetSnapshot().Count(r => r.Message.Contains("asking again", StringComparison.Ordinal));
}
