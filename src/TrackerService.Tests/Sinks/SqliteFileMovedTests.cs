using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using TrackerService.Sinks;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Sinks;

/// <summary>
/// The SQLite file deleted while the service holds it open: no write is confirmed into the lost file; the
/// service stops with a failure exit code, and what it was answered 202 for is in the spill, stored after a restart.
/// </summary>
public sealed class SqliteFileMovedTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("tracker-moved-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task RefusesToCommitIntoADatabaseFileThatWasDeleted()
    {
        // Given a sink that has stored a batch
        var database = Path.Combine(_folder, "events.db");
        await using var sink = NewSink(database);
        await sink.InitializeAsync(CancellationToken.None);
        Assert.Equal(10, await sink.WriteAsync(TrackedEvents.Many(10, "before"), CancellationToken.None));

        // When its file and the file's companions are deleted
        DeleteDatabase(database);

        // Then a write fails as a broken store (neither an outage to retry nor data to dead-letter), and so does a dead letter
        var error = await Assert.ThrowsAsync<StoreFileMovedException>(() => sink.WriteAsync(TrackedEvents.Many(10, "after"), CancellationToken.None));
        Assert.Contains(database, error.Message, StringComparison.Ordinal);
        Assert.False(sink.IsTransient(error));
        Assert.False(sink.IsRefused(error));
        await Assert.ThrowsAsync<StoreFileMovedException>(() =>
            sink.RejectAsync([new RejectedEvent("r", "{}", "test", TrackedEvents.ReceivedAt)], CancellationToken.None));
    }

    [Fact]
    public async Task ChecksTheFileAtASmallCostPerBatch()
    {
        // Given a sink on a real file
        var database = Path.Combine(_folder, "events.db");
        await using var sink = NewSink(database);
        await sink.InitializeAsync(CancellationToken.None);
        var batches = Enumerable.Range(0, 20).Select(b => TrackedEvents.Many(1000, $"b{b}")).ToArray();
        await sink.WriteAsync(TrackedEvents.Many(1000, "warm"), CancellationToken.None);

        // When 20 batches of 1000 are written, and the check is made as often on its own
        var writing = Stopwatch.StartNew();
        foreach (var batch in batches)
        {
            await sink.WriteAsync(batch, CancellationToken.None);
        }

        writing.Stop();
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync();
        var checking = Stopwatch.StartNew();
        for (var i = 0; i < batches.Length; i++)
        {
            SqliteFileCheck.ThrowIfMoved(connection.Handle!);
        }

        checking.Stop();

        // Then the checks cost under 2 % of the writes (a stat each, against a transaction of 1000 rows)
        Assert.True(checking.Elapsed < writing.Elapsed * 0.02, $"checks {checking.Elapsed.TotalMilliseconds} ms, writes {writing.Elapsed.TotalMilliseconds} ms");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StopsWithAFailureExitCodeWhenTheDatabaseIsDeletedAndStoresEveryEventAcceptedAfterwardsOnRestart(bool wholeDataFolder)
    {
        // Given a running service that has stored some events, and a client posting without pause
        var first = await ServiceProcess.StartAsync(_folder);
        var afterDeletion = new ConcurrentBag<string>();
        TimeSpan exitedAfter;
        await using (first)
        {
            (await first.Client.PostAsync("/events", Bodies.Json(Bodies.Batch(10, "before")))).EnsureSuccessStatusCode();
            await StoreReader.WaitForCountAsync(first.DatabasePath, 10);
            var deleted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var stop = new CancellationTokenSource();
            var posting = PostAsync(first.Client, deleted.Task, afterDeletion, stop.Token);

            // When the database file and its companions, or the whole data folder, are deleted under it
            if (wholeDataFolder)
            {
                Directory.Delete(Path.GetDirectoryName(first.DatabasePath)!, recursive: true);
            }
            else
            {
                DeleteDatabase(first.DatabasePath);
            }

            var clock = Stopwatch.StartNew();
            deleted.SetResult();

            // Then it stops by itself within a few seconds, with a failure exit code, saying why
            Assert.Equal(1, await first.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            exitedAfter = clock.Elapsed;
            await stop.CancelAsync();
            await posting;
            Assert.Contains("was deleted or replaced", first.Output, StringComparison.Ordinal);
        }

        Assert.True(exitedAfter < TimeSpan.FromSeconds(10), $"exited {exitedAfter} after the deletion");
        Assert.NotEmpty(afterDeletion);

        // And after a restart, every event answered 202 after the deletion is stored, in the new file
        await using var second = await ServiceProcess.StartAsync(_folder);
        var quoted = string.Join(",", afterDeletion.Select(id => $"'{id}'"));
        long stored = 0;
        Assert.True(await Eventually.TrueAsync(async () =>
            (stored = await StoreReader.CountAsync(second.DatabasePath, $"message_id IN ({quoted})")) == afterDeletion.Count, Patience.Default),
            $"stored {stored} of the {afterDeletion.Count} accepted after the deletion. Output:\n{second.Output}");
    }

    /// <summary>
    /// Posts batches of 20 until the service stops answering; the ids of those answered 202 once
    /// <paramref name="deleted"/> had completed when the request was sent go to <paramref name="afterDeletion"/>.
    /// </summary>
    private static async Task PostAsync(HttpClient client, Task deleted, ConcurrentBag<string> afterDeletion, CancellationToken cancellationToken)
    {
        for (var r = 0; !cancellationToken.IsCancellationRequested; r++)
        {
            var sentAfterDeletion = deleted.IsCompleted;
            var ids = Enumerable.Range(0, 20).Select(i => $"r{r}-{i}").ToArray();
            try
            {
                using var response = await client.PostAsync("/events", Bodies.Json(ids.Select(id => Bodies.Track(id)).ToArray()), cancellationToken);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    continue; // 503 while stopping
                }

                if (sentAfterDeletion)
                {
                    foreach (var id in ids)
                    {
                        afterDeletion.Add(id);
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                return; // the service has gone
            }
        }
    }

    private static void DeleteDatabase(string database)
    {
        foreach (var file in new[] { database, database + "-wal", database + "-shm" })
        {
            File.Delete(file);
        }
    }

    private static SqliteEventSink NewSink(string database) => new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Sqlite"] = $"Data Source={database}" }).Build(),
        Microsoft.Extensions.Options.Options.Create(new SinkOptions()),
        NullLogger<SqliteEventSink>.Instance);
}
