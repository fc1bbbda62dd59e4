// The empty service bench/run measures TrackerService against: the same host, Kestrel defaults and
// environment, and a POST /events that reads the whole body and answers 202 without looking at it.
// Its URL is set the standard way (--urls or ASPNETCORE_URLS).
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var app = builder.Build();
app.MapPost("/events", static async (HttpRequest request) =>
{
    await request.Body.CopyToAsync(Stream.Null, request.HttpContext.RequestAborted);
    return TypedResults.Accepted((string?)null);
});
await app.RunAsync();
