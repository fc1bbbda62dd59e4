using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CsCheck;
using Microsoft.Data.Sqlite;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>
/// Properties of the Segment API end to end (in process, SQLite): whatever the body, path, media type and encoding,
/// the answer is 200, 400 or 413 (never a 5xx) and the service goes on serving; and in a batch of valid and invalid
/// events, each valid one is stored once in <c>events</c>, each invalid one kept once in <c>rejected_events</c> as it
/// was sent, with why, and the answer counts both.
/// </summary>
public sealed class SegmentApiPropertyTests : IDisposable
{
    private static readonly string[] Paths =
        ["/v1/batch", "/v1/import", "/v1/b", "/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/t", "/v1/i", "/v1/p", "/v1/s", "/v1/g", "/v1/a"];

    private static readonly int[] Answered = [200, 400, 413];

    private readonly TrackerApplication _app = new(new() { ["Tracker:Api:MaxSegmentBatchEvents"] = "8", ["Tracker:Api:MaxEventBytes"] = "4096" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AnyBodyIsAnswered200Or400Or413AndTheServiceGoesOn()
    {
        using var client = _app.CreateClient();
        var bodies = Gen.Frequency(
            (2, Gen.Byte.Array[0, 200]),
            (2, Gen.Frequency((4, SegmentJsonGen.Value), (1, SegmentJsonGen.Deep)).Select(SegmentJsonGen.ToBytes)),
            (3, SegmentBatchGen.MutatedEnvelope.Select(SegmentJsonGen.ToBytes)),
            (2, SegmentBatchGen.MutatedEnvelope.SelectMany(json => SegmentJsonGen.Mutated(SegmentJsonGen.ToBytes(json)))));
        var requests = Gen.Select(bodies, Gen.OneOf(Paths), Gen.OneOf<string?>("application/json", "text/plain", "application/x-www-form-urlencoded", null), Gen.Bool);

        await requests.SampleAsync(async (body, path, mediaType, gzip) =>
        {
            using var content = new ByteArrayContent(gzip ? Gzip.Compress(body) : body);
            content.Headers.ContentType = mediaType is null ? null : new MediaTypeHeaderValue(mediaType);
            using var response = await client.PostAsync(path, content);

            // 401 only for a body that names a write key the service doesn't know (it has none but anonymous access).
            var named = body.AsSpan().IndexOf("writeKey"u8) >= 0;
            Assert.Contains((int)response.StatusCode, named ? [.. Answered, 401] : Answered);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                await Problem.ReadAsync(response);
            }
        }, iter: 50, threads: 1);

        using var valid = await client.PostAsync("/v1/batch", Json("""{"batch":[{"type":"track","event":"e","userId":"u","messageId":"after-the-fuzz"}]}"""));
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.True(await Eventually.TrueAsync(async () => await _app.CountStoredAsync("message_id = 'after-the-fuzz'") == 1, Patience.Default));
    }

    [Fact]
    public async Task ValidEventsAreStoredOnceAndInvalidOnesKeptOnceAsSent()
    {
        using var client = _app.CreateClient();
        var batches = Gen.Select(SegmentEventGen.Valid, Gen.Bool, Gen.Int[0, SegmentBatchGen.Breaks - 1]).Array[1, 8];

        await batches.SampleAsync(async events =>
        {
            var valid = new List<string>();
            var invalid = new List<string>();
            var json = new List<string>();
            foreach (var (e, breaks, how) in events)
            {
                var sent = e.WithMessageId(Guid.NewGuid().ToString());
                json.Add(breaks ? SegmentBatchGen.Break(sent, how) : sent.Json);
                (breaks ? invalid : valid).Add(breaks ? json[^1] : sent.MessageId!);
            }

            using var response = await client.PostAsync("/v1/batch", Json("{\"batch\":[" + string.Join(",", json) + "]}"));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(answer.RootElement.GetProperty("success").GetBoolean());
            Assert.Equal(valid.Count, answer.RootElement.GetProperty("accepted").GetInt32());
            Assert.Equal(invalid.Count, answer.RootElement.GetProperty("rejected").GetInt32());

            var stored = await Eventually.TrueAsync(async () => await CountAsync(valid, invalid) == valid.Count + invalid.Count, Patience.Default);
            Assert.True(stored, $"not all of {valid.Count} valid and {invalid.Count} invalid events were stored");
            foreach (var id in valid)
            {
                Assert.Equal(1L, await ScalarAsync("SELECT COUNT(*) FROM events WHERE message_id = $v", id));
            }

            foreach (var raw in invalid)
            {
                Assert.Equal(1L, await ScalarAsync("SELECT COUNT(*) FROM rejected_events WHERE raw = $v AND reason <> '' AND field <> ''", raw));
            }
        }, iter: 30, threads: 1);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<long> CountAsync(List<string> valid, List<string> invalid)
    {
        long found = 0;
        foreach (var id in valid)
        {
            found += await ScalarAsync("SELECT COUNT(*) FROM events WHERE message_id = $v", id);
        }

        foreach (var raw in invalid)
        {
            found += await ScalarAsync("SELECT COUNT(*) FROM rejected_events WHERE raw = $v", raw);
        }

        return found;
    }

    private async Task<long> ScalarAsync(string sql, string value)
    {
        if (!File.Exists(_app.DatabasePath))
        {
            return 0;
        }

        await using var connection = new SqliteConnection($"Data Source={_app.DatabasePath};Mode=ReadOnly;Pooling=False;Default Timeout=10");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$v", value);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
