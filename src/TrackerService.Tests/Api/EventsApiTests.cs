using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TrackerService.Tests.Infrastructure;

namespace TrackerService.Tests.Api;

/// <summary><c>POST /events</c> through the whole service, read back from a real SQLite file.</summary>
public sealed class EventsApiTests : IDisposable
{
    private readonly TrackerApplication _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task AcceptsAQuotedUtf8Charset()
    {
        // Given a Content-Type whose charset is a quoted string, as RFC 9110 allows
        using var client = _app.CreateClient();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"event":"e","userId":"u","messageId":"quoted-charset"}"""));
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=\"utf-8\""));

        // When
        using var response = await client.PostAsync("/events", content);

        // Then
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await _app.WaitForStoredAsync(1);
    }

    [Fact]
    public async Task CountsABodyCutShortByTheClientAsTheClientsFaultAndKeepsServing()
    {
        // Given the service on a real Kestrel listener, its measurements (this host's meters only) recorded
        await using var host = TrackerHost.Build([]);
        var measured = new ConcurrentQueue<string>();
        using var listener = new MeterListener();
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name is "tracker.events.accepted" or "tracker.events.rejected" or "http.server.request.duration")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => measured.Enqueue(Describe(instrument, tags)));
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => measured.Enqueue(Describe(instrument, tags)));
        listener.Start();
        await host.StartAsync();
        var address = new Uri(host.Urls.Single());

        // When a client announces 1,000 bytes, sends 20, and hangs up
        using (var tcp = new System.Net.Sockets.TcpClient())
        {
            await tcp.ConnectAsync(address.Host, address.Port);
            var request = "POST /events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000\r\n\r\n{\"event\":\"Cut\",\"userI";
            await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request));
            tcp.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        }

        // Then the request is refused as an incomplete body with a 4xx (not an unhandled exception and a 500),
        // nothing is accepted, and the next client is served
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(measured.Any(m => m.StartsWith("http.server", StringComparison.Ordinal))), Patience.Default),
            $"a request measurement in: {string.Join("; ", measured)}");
        var seen = string.Join("; ", measured);
        Assert.Contains("tracker.events.rejected reason=incomplete_body", seen, StringComparison.Ordinal);
        Assert.DoesNotContain("tracker.events.accepted", seen, StringComparison.Ordinal);
        Assert.Matches("http.server.request.duration .*http.response.status_code=4(00|99)", seen);
        using var client = new HttpClient { BaseAddress = address };
        using var next = await client.PostAsync("/events", Bodies.Json(Bodies.Track()));
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
        await host.StopAsync();

        static string Describe(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var text = new StringBuilder(instrument.Name);
            foreach (var (key, value) in tags)
            {
                text.Append(CultureInfo.InvariantCulture, $" {key}={value}");
            }

            return text.ToString();
        }
    }

    [Fact]
    public async Task StoresASingleEventWithEveryField()
    {
        // Given a client and an event with every contract field
        using var client = _app.CreateClient();
        const string body = """
            {"type":"page","event":"Viewed","userId":"u-1","anonymousId":"a-1","messageId":"m-every-field",
             "timestamp":"2026-01-31T12:00:00.000+02:00","sentAt":"2026-01-31T10:00:01Z",
             "properties":{"path":"/x","n":[1,2]},"traits":{"plan":"pro"},"context":{"ip":"127.0.0.1"},
             "receivedAt":"1999-01-01T00:00:00Z","unknown":{"a":1}}
            """;

        // When it is posted
        using var response = await client.PostAsync("/events", Bodies.Raw(body));

        // Then it is accepted and stored as sent, with the server's receivedAt
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        await _app.WaitForStoredAsync(1);
        await using var connection = new SqliteConnection($"Data Source={_app.DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT type, event, user_id, anonymous_id, timestamp, sent_at, received_at, properties, traits, context FROM events WHERE message_id = 'm-every-field'";
        await using var row = await command.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal("page", row.GetString(0));
        Assert.Equal("Viewed", row.GetString(1));
        Assert.Equal("u-1", row.GetString(2));
        Assert.Equal("a-1", row.GetString(3));
        Assert.Equal("2026-01-31T10:00:00.0000000Z", row.GetString(4));
        Assert.Equal("2026-01-31T10:00:01.0000000Z", row.GetString(5));
        Assert.True(DateTimeOffset.Parse(row.GetString(6), System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal("""{"path":"/x","n":[1,2]}""", row.GetString(7));
        Assert.Equal("""{"plan":"pro"}""", row.GetString(8));
        Assert.Equal("""{"ip":"127.0.0.1"}""", row.GetString(9));
    }

    [Fact]
    public async Task StoresEveryEventOfManyBatches()
    {
        // Given 20 requests of 100 events each
        using var client = _app.CreateClient();

        // When they are posted concurrently
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(r => client.PostAsync("/events", Bodies.Json(Bodies.Batch(100, $"r{r}")))));

        // Then all are accepted and all 2,000 are stored
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        await _app.WaitForStoredAsync(2_000);
    }

    [Fact]
    public async Task AssignsAMessageIdWhenTheClientSendsNone()
    {
        using var client = _app.CreateClient();

        using var response = await client.PostAsync("/events", Bodies.Json(new[] { Bodies.Track(), Bodies.Track() }));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await _app.WaitForStoredAsync(2);
        Assert.Equal(2, await _app.CountStoredAsync("length(message_id) = 36"));
    }

    [Fact]
    public async Task StoresARepeatedMessageIdOnce()
    {
        // Given an event already stored
        using var client = _app.CreateClient();
        (await client.PostAsync("/events", Bodies.Json(Bodies.Track("dup-1")))).EnsureSuccessStatusCode();
        await _app.WaitForStoredAsync(1);

        // When the same messageId is posted again, once alone and once twice in one batch
        (await client.PostAsync("/events", Bodies.Json(Bodies.Track("dup-1")))).EnsureSuccessStatusCode();
        (await client.PostAsync("/events", Bodies.Json(new[] { Bodies.Track("dup-1"), Bodies.Track("dup-1"), Bodies.Track("other") }))).EnsureSuccessStatusCode();

        // Then it is stored once (the marker "other" proves the later requests were processed)
        await _app.WaitForStoredAsync(2);
        Assert.Equal(1, await _app.CountStoredAsync("message_id = 'dup-1'"));
    }

    [Fact]
    public async Task AcceptsTextPlainAsSentByBeacons()
    {
        using var client = _app.CreateClient();

        using var response = await client.PostAsync("/events", Bodies.Raw("""{"event":"Left","anonymousId":"a"}""", "text/plain"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await _app.WaitForStoredAsync(1);
    }

    [Fact]
    public async Task AcceptsAGzipBody()
    {
        using var client = _app.CreateClient();
        using var content = Gzip.Content(JsonSerializer.Serialize(Bodies.Batch(50, "gz")));

        using var response = await client.PostAsync("/events", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await _app.WaitForStoredAsync(50);
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """[{"event":"ok","userId":"u"},{"event":"no-user"}]""", "[1].userId" },
        { """[{"userId":"u"}]""", "[0].event" },
        { """[{"event":"x","userId":"u","type":"purchase"}]""", "[0].type" },
        { """[{"event":"x","userId":"u","properties":[1]}]""", "[0].properties" },
        { """[{"event":"x","userId":"u","timestamp":"yesterday"}]""", "[0].timestamp" },
        { $$"""[{"event":"x","userId":"{{new string('u', 201)}}"}]""", "[0].userId" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task RejectsAnInvalidBatchNamingTheEventAndStoresNothing(string body, string errorKey)
    {
        using var client = _app.CreateClient();

        using var response = await client.PostAsync("/events", Bodies.Raw(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Problem.ReadAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty(errorKey, out _), $"no error for {errorKey}: {problem}");
        await AssertNothingStoredBeforeAMarkerAsync(client);
    }

    public static TheoryData<string, HttpStatusCode> RefusedBodies => new()
    {
        { "{not json", HttpStatusCode.BadRequest },
        { "", HttpStatusCode.BadRequest },
        { "[]", HttpStatusCode.BadRequest },
        { "\"a string\"", HttpStatusCode.BadRequest },
        { JsonSerializer.Serialize(Bodies.Batch(501, "big")), HttpStatusCode.RequestEntityTooLarge },
        { JsonSerializer.Serialize(new { @event = "x", userId = "u", properties = new { blob = new string('x', 33 * 1024) } }), HttpStatusCode.RequestEntityTooLarge },
        { "[" + string.Join(',', Enumerable.Repeat(JsonSerializer.Serialize(new { @event = "x", userId = "u", properties = new { blob = new string('x', 30 * 1024) } }), 20)) + "]", HttpStatusCode.RequestEntityTooLarge },
    };

    [Theory]
    [MemberData(nameof(RefusedBodies))]
    public async Task RefusesABadBodyWithProblemDetailsAndStoresNothing(string body, HttpStatusCode status)
    {
        using var client = _app.CreateClient();

        using var response = await client.PostAsync("/events", Bodies.Raw(body));

        Assert.Equal(status, response.StatusCode);
        Assert.False(string.IsNullOrEmpty((await Problem.ReadAsync(response)).GetProperty("detail").GetString()));
        await AssertNothingStoredBeforeAMarkerAsync(client);
    }

    [Fact]
    public async Task RefusesAGzipBodyThatInflatesBeyondTheLimit()
    {
        // Given 600 KiB of JSON that compresses to a few KiB
        using var client = _app.CreateClient();
        var json = JsonSerializer.Serialize(new { @event = "x", userId = "u", properties = new { blob = new string('x', 600 * 1024) } });
        using var content = Gzip.Content(json);

        using var response = await client.PostAsync("/events", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await Problem.ReadAsync(response);
        await AssertNothingStoredBeforeAMarkerAsync(client);
    }

    [Theory]
    [InlineData("application/xml", null)]
    [InlineData("multipart/form-data", null)]
    [InlineData("application/json", "br")]
    public async Task RefusesAnUnsupportedMediaTypeOrEncoding(string mediaType, string? encoding)
    {
        using var client = _app.CreateClient();
        using var content = Bodies.Raw("""{"event":"x","userId":"u"}""", mediaType);
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        using var response = await client.PostAsync("/events", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await Problem.ReadAsync(response);
        await AssertNothingStoredBeforeAMarkerAsync(client);
    }

    [Fact]
    public async Task RefusesABodyWithoutContentType()
    {
        using var client = _app.CreateClient();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"event":"x","userId":"u"}"""));

        using var response = await client.PostAsync("/events", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await AssertNothingStoredBeforeAMarkerAsync(client);
    }

    /// <summary>
    /// Proves a refused request stored nothing: a marker event posted after it is stored, and it is the only row.
    /// </summary>
    private async Task AssertNothingStoredBeforeAMarkerAsync(HttpClient client)
    {
        (await client.PostAsync("/events", Bodies.Json(Bodies.Track("marker")))).EnsureSuccessStatusCode();
        await _app.WaitForStoredAsync(1);
        Assert.Equal(1, await _app.CountStoredAsync("message_id = 'marker'"));
    }
}
