using System.Text;
using TrackerService.Api;
using TrackerService.Events;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// One event object read by <see cref="EventReader.Read"/>, as the first event of a batch received at
/// <see cref="ReceivedAt"/>: the event, or the errors that refused it.
/// </summary>
internal sealed record EventRead(TrackedEvent? Event, IReadOnlyList<EventError> Errors)
{
    public static readonly DateTimeOffset ReceivedAt = new(2026, 1, 31, 12, 0, 0, TimeSpan.Zero);

    public static EventRead Of(string json) => Of(Encoding.UTF8.GetBytes(json));

    public static EventRead Of(byte[] json)
    {
        var errors = new List<EventError>();
        var parsed = EventReader.Read(json, 0, ReceivedAt, errors);
        return new EventRead(parsed, errors);
    }

    /// <summary>The event; asserts it was read with no error.</summary>
    public TrackedEvent Valid()
    {
        Assert.Empty(Errors);
        Assert.NotNull(Event);
        return Event;
    }

    /// <summary>The errors' keys (<c>[0].field</c>); asserts the event was refused.</summary>
    public IEnumerable<string> InvalidKeys()
    {
        Assert.Null(Event);
        return Errors.Select(e => e.Key);
    }
}
