using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// The balancer fixture spreads requests over its upstreams, moves a request on only when no upstream got it, and
/// never sends a POST to a second upstream once one has it: the rule that keeps an accepted event from being queued twice.
/// </summary>
public sealed class NginxBalancerTests
{
    [Fact]
    public async Task SpreadsRequestsRoundRobinAcrossItsUpstreams()
    {
        // Given two upstreams behind the balancer
        await using var a = await Upstream.StartAsync();
        await using var b = await Upstream.StartAsync();
        await using var nginx = await NginxBalancer.StartAsync([a.Address, b.Address]);
        using var client = new HttpClient { BaseAddress = nginx.Address };

        // When it takes 10 GETs and 10 POSTs
        var answers = await SendAsync(client, HttpMethod.Get, 10);
        answers.AddRange(await SendAsync(client, HttpMethod.Post, 10));

        // Then every request is answered by one upstream, and each upstream took half of them
        Assert.All(answers, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal((10, 10), (a.Requests, b.Requests));
    }

    [Fact]
    public async Task PassesARequestThatNoUpstreamGotToTheNextOne()
    {
        // Given two upstreams, one of them gone (its port refuses connections)
        await using var a = await Upstream.StartAsync();
        var b = await Upstream.StartAsync();
        await using var nginx = await NginxBalancer.StartAsync([a.Address, b.Address]);
        await b.DisposeAsync();
        using var client = new HttpClient { BaseAddress = nginx.Address };

        // When it takes POSTs
        var answers = await SendAsync(client, HttpMethod.Post, 6);

        // Then the one that is left took every one of them
        Assert.All(answers, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(6, a.Requests);
    }

    [Theory]
    [InlineData(Behaviour.Unavailable)]
    [InlineData(Behaviour.CloseWithoutAnswer)]
    public async Task NeverSendsAPostToASecondUpstreamOnceOneHasIt(Behaviour failing)
    {
        // Given an upstream that fails a request it has read (503, or a connection closed without an answer) and a good one
        await using var bad = await Upstream.StartAsync(failing);
        await using var good = await Upstream.StartAsync();
        await using var nginx = await NginxBalancer.StartAsync([bad.Address, good.Address]);
        using var client = new HttpClient { BaseAddress = nginx.Address };

        // When it takes POSTs
        var answers = await SendAsync(client, HttpMethod.Post, 4);

        // Then each POST reached exactly one upstream: the failing one's answers reached the client instead of the good one
        Assert.True(bad.Requests >= 1, nginx.Log);
        Assert.Equal(4, bad.Requests + good.Requests);
        Assert.Equal(bad.Requests, answers.Count(status => status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway));
    }

    [Fact]
    public async Task PassesAGetThatAnUpstreamRefusedWith503ToTheNextOne()
    {
        // Given an upstream that answers 503 and a good one
        await using var bad = await Upstream.StartAsync(Behaviour.Unavailable);
        await using var good = await Upstream.StartAsync();
        await using var nginx = await NginxBalancer.StartAsync([bad.Address, good.Address]);
        using var client = new HttpClient { BaseAddress = nginx.Address };

        // When it takes a GET the failing upstream gets first
        using var response = await client.GetAsync("/");

        // Then the good one answers it, and the header names both tries
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((1, 1), (bad.Requests, good.Requests));
        Assert.Equal($"{bad.Address.Authority}, {good.Address.Authority}", response.Headers.GetValues(NginxBalancer.UpstreamHeader).Single());
    }

    [Fact]
    public async Task AddingAndRemovingAnUpstreamTakesEffectOnReload()
    {
        // Given one upstream behind the balancer
        await using var a = await Upstream.StartAsync();
        await using var b = await Upstream.StartAsync();
        await using var nginx = await NginxBalancer.StartAsync([a.Address]);
        using var client = new HttpClient { BaseAddress = nginx.Address };

        // When a second is added, then the first removed
        await nginx.AddUpstreamAsync(b.Address);
        await SendAsync(client, HttpMethod.Post, 4);
        var afterAdd = (a.Requests, b.Requests);
        await nginx.RemoveUpstreamAsync(a.Address);
        await SendAsync(client, HttpMethod.Post, 4);

        // Then both shared the requests while both were in, and only the second took them once the first was out
        Assert.Equal((2, 2), afterAdd);
        Assert.Equal((2, 6), (a.Requests, b.Requests));
        Assert.Equal([b.Address], nginx.Upstreams);
    }

    public enum Behaviour
    {
        Ok,
        Unavailable,
        CloseWithoutAnswer,
    }

    private static async Task<List<HttpStatusCode>> SendAsync(HttpClient client, HttpMethod method, int count)
    {
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(method, "/events");
            if (method == HttpMethod.Post)
            {
                request.Content = new StringContent("""{"event":"e","userId":"u"}""", System.Text.Encoding.UTF8, "application/json");
            }

            using var response = await client.SendAsync(request);
            answers.Add(response.StatusCode);
        }

        return answers;
    }

    /// <summary>A plain HTTP server on a free port that counts the requests it read and answers them as told.</summary>
    private sealed class Upstream : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private Upstream(WebApplication app, Behaviour behaviour)
        {
            _app = app;
            app.Run(async context =>
            {
                await context.Request.Body.CopyToAsync(Stream.Null);
                Interlocked.Increment(ref _requests);
                switch (behaviour)
                {
                    case Behaviour.Unavailable:
                        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                        break;
                    case Behaviour.CloseWithoutAnswer:
                        context.Abort();
                        break;
                    default:
                        await context.Response.WriteAsync("ok");
                        break;
                }
            });
        }

        public Uri Address => new(_app.Urls.Single());

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<Upstream> StartAsync(Behaviour behaviour = Behaviour.Ok)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var upstream = new Upstream(builder.Build(), behaviour);
            await upstream._app.StartAsync();
            return upstream;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
