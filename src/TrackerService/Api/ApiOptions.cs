namespace TrackerService.Api;

/// <summary>Limits of the public endpoints, <c>POST /events</c> and the Segment API <c>/v1/*</c> (section <c>Tracker:Api</c>).</summary>
public sealed class ApiOptions
{
    public const string Section = "Tracker:Api";

    /// <summary>
    /// Largest request body, in bytes, as JSON: a plain body may not exceed it and a gzip body may not
    /// inflate beyond it. The default value is 524288 (512 KiB).
    /// </summary>
    public int MaxBodyBytes { get; set; } = 512 * 1024;

    /// <summary>Most events in one request. The default value is 500.</summary>
    public int MaxBatchEvents { get; set; } = 500;

    /// <summary>Most events in one batch of the Segment API (<c>/v1/batch</c>), as Segment's own limit. The default value is 2500.</summary>
    public int MaxSegmentBatchEvents { get; set; } = 2500;

    /// <summary>Largest single event, in bytes of JSON. The default value is 32768 (32 KiB).</summary>
    public int MaxEventBytes { get; set; } = 32 * 1024;
}
