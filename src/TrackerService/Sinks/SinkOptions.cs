namespace TrackerService.Sinks;

/// <summary>Which store events are delivered to, and how hard a write is tried (section <c>Tracker:Sink</c>).</summary>
public sealed class SinkOptions
{
    public const string Section = "Tracker:Sink";

    /// <summary>The store. The default value is <see cref="SinkKind.Sqlite"/>.</summary>
    public SinkKind Kind { get; set; } = SinkKind.Sqlite;

    /// <summary>Longest a single write attempt may take before it is abandoned and retried. The default value is 10 seconds.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First pause between write attempts; it doubles, with jitter, up to <see cref="RetryMaxDelay"/>. The default value is 100 milliseconds.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest pause between write attempts. The default value is 5 seconds.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The kinds of store events can be delivered to.</summary>
public enum SinkKind
{
    /// <summary>An embedded SQLite database file (<c>ConnectionStrings:Sqlite</c>).</summary>
    Sqlite,

    /// <summary>A PostgreSQL database (<c>ConnectionStrings:Postgres</c>).</summary>
    Postgres,
}
