using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary>The Segment tracking API (<c>/v1/*</c>) through the whole service, read back from a real SQLite file.</summary>
public sealed class SegmentApiTests : IDisposable
{
    private readonly TrackerApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task StoresTheValidEventsOfABatchAndKeepsEachInvalidOneWithWhy()
    {
        // Given a batch of three valid events and two invalid ones (a group without groupId, a track without a user)
        var body = """
            {"batch": [
              {"type":"track","event":"Signed Up","userId":"u1","messageId":"ok-1"},
              {"type":"group","userId":"u1","messageId":"bad-1","traits":{"name":"Acme"}},
              {"type":"identify","userId":"u2","messageId":"ok-2","traits":{"plan":"pro"}},
              {"type":"track","event":"Orphan","messageId":"bad-2"},
              {"type":"page","name":"Home","anonymousId":"a1","messageId":"ok-3"}
            ], "_metadata": {"nodeVersion": "20"}}
            """;

        // When it is posted
        var answer = await PostAsync("/v1/batch", body);

        // Then the answer is 200, success, with the counts and why each was rejected
        Assert.True(answer.GetProperty("success").GetBoolean());
        Assert.Equal(3, answer.GetProperty("accepted").GetInt32());
        Assert.Equal(2, answer.GetProperty("rejected").GetInt32());
        Assert.Equal([1, 3], answer.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("index").GetInt32()));

        // And the valid ones are stored, the invalid ones in rejected_events with their field, reason and raw JSON
        await _app.WaitForStoredAsync(3);
        await StoreReader.WaitForRejectedAsync(_app.DatabasePath, 2);
        var rejected = await StoreReader.QueryAsync(_app.DatabasePath, "SELECT message_id, field, reason, raw, received_at FROM rejected_events ORDER BY message_id");
        Assert.Equal(["bad-1", "bad-2"], rejected.Select(r => (string)r[0]!));
        Assert.Equal(["groupId", "userId"], rejected.Select(r => (string)r[1]!));
        Assert.All(rejected, r => Assert.False(string.IsNullOrEmpty((string?)r[2])));
        Assert.Equal("""{"type":"group","userId":"u1","messageId":"bad-1","traits":{"name":"Acme"}}""", rejected[0][3]);
        Assert.All(rejected, r => Assert.NotNull(r[4]));
    }

    [Fact]
    public async Task CorrectsTheTimeOfAClientWhoseClockIsAnHourFast()
    {
        // Given a client whose clock is an hour ahead: it says the event happened 5 s before it sent the batch
        var clientNow = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds());
        var happened = clientNow.AddSeconds(-5);
        var body = $$"""
            {"batch":[{"type":"track","event":"e","userId":"u","messageId":"skewed","timestamp":"{{Iso(happened)}}"}],"sentAt":"{{Iso(clientNow)}}"}
            """;

        // When it is posted
        await PostAsync("/v1/batch", body);
        await _app.WaitForStoredAsync(1);

        // Then the stored time is the true time of the event, within a second, and what the client said is kept
        var row = Assert.Single(await StoreReader.QueryAsync(_app.DatabasePath, "SELECT timestamp, original_timestamp, sent_at FROM events"));
        var trueTime = DateTimeOffset.UtcNow.AddSeconds(-5);
        var stored = DateTimeOffset.Parse((string)row[0]!, CultureInfo.InvariantCulture);
        Assert.InRange(stored, trueTime.AddSeconds(-1), trueTime.AddSeconds(1));
        Assert.Equal(happened, DateTimeOffset.Parse((string)row[1]!, CultureInfo.InvariantCulture));
        Assert.Equal(clientNow, DateTimeOffset.Parse((string)row[2]!, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task MergesTheEnvelopesContextAndIntegrationsUnderEachEventsOwn()
    {
        // Given an envelope context and integrations, and an event with its own, overlapping ones
        var body = """
            {"batch":[{"type":"track","event":"e","userId":"u","messageId":"merged",
                       "context":{"library":{"name":"own"},"locale":"fr"},"integrations":{"Mixpanel":false}}],
             "context":{"library":{"name":"envelope"},"os":{"name":"linux"}},"integrations":{"All":true,"Mixpanel":true}}
            """;

        // When it is posted
        await PostAsync("/v1/batch", body);
        await _app.WaitForStoredAsync(1);

        // Then the event's keys win and the envelope's fill in
        var row = Assert.Single(await StoreReader.QueryAsync(_app.DatabasePath, "SELECT context, integrations FROM events"));
        using var context = JsonDocument.Parse((string)row[0]!);
        Assert.Equal("own", context.RootElement.GetProperty("library").GetProperty("name").GetString());
        Assert.Equal("fr", context.RootElement.GetProperty("locale").GetString());
        Assert.Equal("linux", context.RootElement.GetProperty("os").GetProperty("name").GetString());
        using var integrations = JsonDocument.Parse((string)row[1]!);
        Assert.False(integrations.RootElement.GetProperty("Mixpanel").GetBoolean());
        Assert.True(integrations.RootElement.GetProperty("All").GetBoolean());
    }

    [Theory]
    [InlineData("/v1/track", """{"event":"Clicked","userId":"u"}""", "track")]
    [InlineData("/v1/t", """{"event":"Clicked","userId":"u"}""", "track")]
    [InlineData("/v1/identify", """{"userId":"u","traits":{"a":1}}""", "identify")]
    [InlineData("/v1/page", """{"anonymousId":"a","name":"Home","category":"Docs"}""", "page")]
    [InlineData("/v1/p", """{"anonymousId":"a","type":"page"}""", "page")]
    [InlineData("/v1/screen", """{"userId":"u","name":"Settings"}""", "screen")]
    [InlineData("/v1/group", """{"userId":"u","groupId":"g"}""", "group")]
    [InlineData("/v1/alias", """{"userId":"u","previousId":"a"}""", "alias")]
    [InlineData("/v1/a", """{"userId":"u","previousId":"a"}""", "alias")]
    public async Task ASingleCallTakesItsTypeFromThePath(string path, string body, string type)
    {
        var answer = await PostAsync(path, body);

        Assert.Equal(1, answer.GetProperty("accepted").GetInt32());
        await _app.WaitForStoredAsync(1);
        Assert.Equal(1, await _app.CountStoredAsync($"type = '{type}'"));
    }

    [Fact]
    public async Task ASingleCallWhoseBodyTypeDisagreesWithItsPathIsKeptAsRejected()
    {
        var answer = await PostAsync("/v1/track", """{"type":"identify","userId":"u","event":"e","messageId":"disagrees"}""");

        Assert.Equal(1, answer.GetProperty("rejected").GetInt32());
        await StoreReader.WaitForRejectedAsync(_app.DatabasePath, 1);
        Assert.Equal("type", (await StoreReader.QueryAsync(_app.DatabasePath, "SELECT field FROM rejected_events")).Single()[0]);
        Assert.Equal(0, await _app.CountStoredAsync());
    }

    [Fact]
    public async Task KeepsTheSpecFieldsAndIdsSentAsNumbers()
    {
        var body = """
            {"batch":[
              {"type":"page","userId":42,"name":"Pricing","category":"Marketing","messageId":"page-1"},
              {"type":"group","userId":7,"groupId":1234567890123,"messageId":"group-1"},
              {"type":"alias","userId":"u-9","previousId":9.5,"messageId":"alias-1"}]}
            """;

        await PostAsync("/v1/batch", body);
        await _app.WaitForStoredAsync(3);

        var rows = await StoreReader.QueryAsync(_app.DatabasePath, "SELECT message_id, user_id, name, category, group_id, previous_id FROM events ORDER BY message_id");
        Assert.Equal(["alias-1", "u-9", null, null, null, "9.5"], rows[0]);
        Assert.Equal(["group-1", "7", null, null, "1234567890123", null], rows[1]);
        Assert.Equal(["page-1", "42", "Pricing", "Marketing", null, null], rows[2]);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""[{"type":"track","event":"e","userId":"u"}]""")]
    [InlineData("""{"type":"track","event":"e","userId":"u"}""")]
    [InlineData("""{"batch":{"type":"track"}}""")]
    [InlineData("""{"batch":[],"sentAt":"yesterday"}""")]
    [InlineData("""{"batch":[]} {}""")]
    public async Task ABodyThatIsNotAnEnvelopeIs400AndChangesNothing(string body)
    {
        using var client = _app.CreateClient();
        using var response = await client.PostAsync("/v1/batch", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await Problem.ReadAsync(response)).GetProperty("detail").GetString()));
        Assert.Equal(0, await _app.CountStoredAsync());
    }

    [Fact]
    public async Task ABatchOverTheLimitIs413()
    {
        var events = string.Join(",", Enumerable.Range(0, 2501).Select(i => $$"""{"type":"track","event":"e","userId":"u{{i}}"}"""));
        using var client = _app.CreateClient();
        using var response = await client.PostAsync("/v1/batch", new StringContent($$"""{"batch":[{{events}}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("2500", (await Problem.ReadAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEventOverThirtyTwoKilobytesIsKeptAsRejectedAndTheOthersStored()
    {
        var big = new string('x', 33 * 1024);
        var body = $$"""{"batch":[{"type":"track","event":"e","userId":"u","properties":{"p":"{{big}}"},"messageId":"big"},{"type":"track","event":"e","userId":"u"}]}""";

        var answer = await PostAsync("/v1/batch", body);

        Assert.Equal(1, answer.GetProperty("rejected").GetInt32());
        await _app.WaitForStoredAsync(1);
        await StoreReader.WaitForRejectedAsync(_app.DatabasePath, 1);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task TakesJsonWhateverItsLabelAndGzipWithoutItsHeader(string? mediaType)
    {
        // Given a gzip body with no Content-Encoding, labelled in an odd way (or not at all)
        var content = new ByteArrayContent(Gzip.Compress(Encoding.UTF8.GetBytes("""{"batch":[{"type":"track","event":"e","userId":"u"}]}""")));
        if (mediaType is not null)
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(mediaType);
        }

        using var client = _app.CreateClient();
        using var response = await client.PostAsync("/v1/batch", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await _app.WaitForStoredAsync(1);
    }

    private async Task<JsonElement> PostAsync(string path, string body)
    {
        using var client = _app.CreateClient();
        using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
