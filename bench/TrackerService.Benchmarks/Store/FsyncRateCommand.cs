using System.Diagnostics;

namespace TrackerService.Benchmarks.Store;

/// <summary>
/// This disk's raw sync rate, the ceiling of any log that syncs before it answers (issue 15, <c>Tracker:Durability=Disk</c>):
/// a bare loop of one write of <c>block</c> bytes and one <c>FileStream.Flush(true)</c> (fsync on Linux) on a file in the
/// given folder, for the given time, with the process's CPU time per sync. <c>append</c> writes at the end of a growing
/// file; <c>zeroed</c> overwrites a file first filled with zeros and synced, as the write-ahead log does in a segment made
/// ahead (<c>WalSpare</c>). Group commit is how close the log's syncs per second come to this.
/// </summary>
internal static class FsyncRateCommand
{
    public static int Run(string folder, double seconds, int block, string mode)
    {
        if (mode is not ("append" or "zeroed"))
        {
            throw new ArgumentException($"fsync-rate: mode '{mode}' is neither append nor zeroed");
        }

        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"fsync-rate-{Environment.ProcessId}.tmp");
        var bytes = new byte[block];
        Random.Shared.NextBytes(bytes);
        long syncs = 0;
        double elapsed, cpu;
        try
        {
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
            if (mode == "zeroed")
            {
                Zero(file, 256L << 20); // 256 MiB, written once, before the clock; the loop ends early if it fills them
            }

            var process = Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds && (mode == "append" || file.Position + block <= file.Length))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true);
                syncs++;
            }

            elapsed = clock.Elapsed.TotalSeconds;
            process.Refresh();
            cpu = (process.TotalProcessorTime - cpuBefore).TotalMicroseconds;
        }
        finally
        {
            File.Delete(path);
        }

        Output.Result(new
        {
            Kind = "fsync",
            Mode = mode,
            Block = block,
            Syncs = syncs,
            Seconds = Math.Round(elapsed, 3),
            PerS = Math.Round(syncs / elapsed),
            CpuUsPerSync = Math.Round(cpu / Math.Max(1, syncs), 1),
        });
        return 0;
    }

    private static void Zero(FileStream file, long length)
    {
        var zeros = new byte[1 << 20];
        for (long at = 0; at < length; at += zeros.Length)
        {
            file.Write(zeros);
        }

        file.Flush(flushToDisk: true);
        file.Position = 0;
    }
}
