namespace TrackerService.Sinks;

/// <summary>Which store events are delivered to, and how hard a write is tried (section <c>Tracker:Sink</c>).</summary>
public sealed class SinkOptions
{
    public const string Section = "Tracker:Sink";

    /// <summary>The name, under <c>ConnectionStrings</c>, of the SQLite database's connection string.</summary>
    public const string SqliteConnectionString = "Sqlite";

    /// <summary>The name, under <c>ConnectionStrings</c>, of the PostgreSQL database's connection string (required for <see cref="SinkKind.Postgres"/>).</summary>
    public const string PostgresConnectionString = "Postgres";

    /// <summary>The store. The default value is <see cref="SinkKind.Sqlite"/>.</summary>
    public SinkKind Kind { get; set; } = SinkKind.Sqlite;

    /// <summary>Longest a single write attempt may take before it is abandoned and retried. The default value is 10 seconds.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First pause between write attempts; it doubles, with jitter, up to <see cref="RetryMaxDelay"/>. The default value is 100 milliseconds.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest pause between write attempts. The default value is 5 seconds.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Retries of a failed batch before it goes to the spill (and is replayed later). The default value is 4.
    /// </summary>
    public int MaxRetryAttempts { get; set; } = 4;

    /// <summary>
    /// Share of failed writes, over <see cref="CircuitSamplingDuration"/>, that opens the circuit: batches then
    /// go straight to the spill until a probe succeeds. The default value is 0.5.
    /// </summary>
    public double CircuitFailureRatio { get; set; } = 0.5;

    /// <summary>Window over which the failure ratio is measured. The default value is 30 seconds.</summary>
    public TimeSpan CircuitSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Writes needed in the window before the circuit may open. The default value is 4.</summary>
    public int CircuitMinimumThroughput { get; set; } = 4;

    /// <summary>How long the circuit stays open before a probe write is let through. The default value is 5 seconds.</summary>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The kinds of store events can be delivered to.</summary>
public enum SinkKind
{
    /// <summary>An embedded SQLite database file (<c>ConnectionStrings:Sqlite</c>).</summary>
    Sqlite,

    /// <summary>A PostgreSQL database (<c>ConnectionStrings:Postgres</c>).</summary>
    Postgres,

    /// <summary>
    /// A NATS JetStream stream (<c>Tracker:JetStream</c>), which loaders write to a database: the intake side of a
    /// scaled-out deployment.
    /// </summary>
    JetStream,
}
