using System.Collections.Concurrent;
using System.Net;

namespace TrackerService.Tests.Infrastructure;

/// <summary>Load from a client, counted per messageId: what was answered 202 is what must be stored.</summary>
internal static class Clients
{
    /// <summary>
    /// Posts requests of 20 events one after another until one is refused (a 503 while shutting down), the listener
    /// is closed or <paramref name="cancellationToken"/> fires; adds the messageId of every event answered 202.
    /// </summary>
    public static async Task PostUntilRefusedAsync(HttpClient client, string prefix, ConcurrentBag<string> accepted, CancellationToken cancellationToken)
    {
        for (var r = 0; !cancellationToken.IsCancellationRequested; r++)
        {
            var ids = Enumerable.Range(0, 20).Select(i => $"{prefix}-{r}-{i}").ToArray();
            try
            {
                using var response = await client.PostAsync("/events", Bodies.Json(ids.Select(id => Bodies.Track(id)).ToArray()), cancellationToken);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    return; // 503: shutting down
                }

                foreach (var id in ids)
                {
                    accepted.Add(id);
                }
            }
            catch (HttpRequestException)
            {
                return; // the listener is closed
            }
        }
    }
}
