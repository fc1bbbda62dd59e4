using System.Diagnostics;

namespace TrackerService.Benchmarks.Store;

/// <summary>
/// This disk's raw sync rate, the ceiling of any log that syncs before it answers (issue 15, <c>Tracker:Durability=Disk</c>):
/// a bare loop of one 4 KB append and one <c>FileStream.Flush(true)</c> (fsync on Linux) on a file in the given folder,
/// for the given time. Group commit is how close the write-ahead log's syncs per second come to this.
/// </summary>
internal static class FsyncRateCommand
{
    public static int Run(string folder, double seconds)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"fsync-rate-{Environment.ProcessId}.tmp");
        var block = new byte[4096];
        Random.Shared.NextBytes(block);
        long syncs = 0;
        double elapsed;
        try
        {
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                file.Write(block);
                file.Flush(flushToDisk: true);
                syncs++;
            }

            elapsed = clock.Elapsed.TotalSeconds;
        }
        finally
        {
            File.Delete(path);
        }

        Output.Result(new { Kind = "fsync", Syncs = syncs, Seconds = Math.Round(elapsed, 3), PerS = Math.Round(syncs / elapsed) });
        return 0;
    }
}
