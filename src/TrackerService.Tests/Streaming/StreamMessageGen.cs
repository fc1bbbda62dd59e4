using System.Diagnostics;
using CsCheck;
using TrackerService.Events;

namespace TrackerService.Tests.Streaming;

/// <summary>Events with any mix of fields (text with quotes, escapes, line breaks and non-ASCII), rejected or not, and the intake spans they came with.</summary>
internal static class StreamMessageGen
{
    private static readonly Gen<string> Text = Gen.Char["abcXYZ019 -_.@:/\"\\\n\té中<+&"].Array[0, 16].Select(c => new string(c));

    private static readonly Gen<string?> OptionalText = Gen.Frequency((1, Gen.Const<string?>((string?)null)), (3, Text.Select(t => (string?)t)));

    private static readonly Gen<JsonText?> Json = Gen.OneOf<JsonText?>(
        null, "{}", """{"a":1,"b":[true,null,"x\"y"]}""", "{\n  \"pretty\": \"printed\"\n}", """{"text":"é中 \u00e9\n"}""");

    private static readonly Gen<DateTimeOffset> Time = Gen.Select(Gen.Long[new DateTime(2000, 1, 1).Ticks, new DateTime(2100, 1, 1).Ticks], Gen.Int[-14 * 60, 14 * 60])
        .Select((ticks, minutes) => new DateTimeOffset(ticks, TimeSpan.FromMinutes(minutes)));

    private static readonly Gen<DateTimeOffset?> OptionalTime = Gen.Frequency((1, Gen.Const<DateTimeOffset?>((DateTimeOffset?)null)), (2, Time.Select(t => (DateTimeOffset?)t)));

    private static readonly Gen<EventRejection?> Rejection = Gen.Frequency(
        (3, Gen.Const<EventRejection?>((EventRejection?)null)),
        (1, Gen.Select(Text, Text, OptionalText).Select((raw, reason, field) => (EventRejection?)new EventRejection(raw, reason, field))));

    public static readonly Gen<TrackedEvent> Event =
        Gen.Select(Text.Where(t => t.Length > 0), Gen.Enum<EventType>(), OptionalText, OptionalText, OptionalText, OptionalTime, OptionalTime, Time)
            .Select(Gen.Select(Json, Json, Json, Json), Gen.Select(OptionalText, OptionalText, OptionalText, OptionalText, OptionalText, OptionalTime, Rejection),
                (a, objects, more) => new TrackedEvent(a.Item1, a.Item2, a.Item3, a.Item4, a.Item5, a.Item6, a.Item7, a.Item8, objects.Item1, objects.Item2, objects.Item3)
                {
                    Integrations = objects.Item4,
                    Name = more.Item1,
                    Category = more.Item2,
                    GroupId = more.Item3,
                    PreviousId = more.Item4,
                    Source = more.Item5,
                    OriginalTimestamp = more.Item6,
                    Rejection = more.Item7,
                });

    public static readonly Gen<ActivityContext> Origin = Gen.Frequency(
        (1, Gen.Const(default(ActivityContext))),
        (3, Gen.Select(Gen.Bool, Gen.OneOf<string?>(null, "", "vendor=abc", "a=1,b=2")).Select((recorded, state) =>
            new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), recorded ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, state))));
}
