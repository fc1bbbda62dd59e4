using System.Buffers;
using TrackerService.Api;
using TrackerService.Events;
using TrackerService.Spill;

namespace TrackerService.Hosting;

/// <summary>
/// The intake's rules (<see cref="EventReader"/>, <see cref="EventFields"/>) for spill replay: the event is written
/// back as the JSON object a client would send and read as the API reads it, so a spilled line is held to exactly
/// what a request is.
/// </summary>
internal sealed class IntakeEventContract : IEventContract
{
    public EventFault? Check(TrackedEvent e)
    {
        var json = new ArrayBufferWriter<byte>();
        EventLine.WriteRequest(json, e);
        var errors = new List<EventError>();
        EventReader.Read(json.WrittenSpan, 0, e.ReceivedAt, errors);
        return errors is [var first, ..] ? new EventFault(first.Field, first.Message) : null;
    }
}
