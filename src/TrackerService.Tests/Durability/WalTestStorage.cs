using Microsoft.Win32.SafeHandles;
using TrackerService.Durability;

namespace TrackerService.Tests.Durability;

/// <summary>The real disk, with faults a test turns on: writes or syncs that fail as a full disk does, and a gate a sync waits at.</summary>
internal sealed class WalTestStorage : IWalStorage
{
    private readonly Lock _lock = new();

    /// <summary>Every write fails with "No space left on device".</summary>
    public bool FailWrites { get; set; }

    /// <summary>Every segment sync fails (the write itself succeeds, so the file must be cut back).</summary>
    public bool FailSyncs { get; set; }

    /// <summary>When set, the next segment sync waits for it (once), so appends pile up behind it.</summary>
    public ManualResetEventSlim? SyncGate { get; set; }

    /// <summary>Set when a sync is waiting at <see cref="SyncGate"/>.</summary>
    public ManualResetEventSlim AtGate { get; } = new();

    public int Syncs { get; private set; }

    public void Write(SafeFileHandle file, ReadOnlySpan<byte> bytes, long offset)
    {
        if (FailWrites)
        {
            throw new IOException("No space left on device (injected)", 28);
        }

        DiskStorage.Instance.Write(file, bytes, offset);
    }

    public void Sync(SafeFileHandle file)
    {
        ManualResetEventSlim? gate;
        lock (_lock)
        {
            Syncs++;
            (gate, SyncGate) = (SyncGate, null);
        }

        if (gate is not null)
        {
            AtGate.Set();
            gate.Wait(TimeSpan.FromSeconds(30));
        }

        if (FailSyncs)
        {
            throw new IOException("Input/output error (injected)", 5);
        }

        DiskStorage.Instance.Sync(file);
    }

    public void SetLength(SafeFileHandle file, long length) => DiskStorage.Instance.SetLength(file, length);

    public void SyncDirectory(string directory) => DiskStorage.Instance.SyncDirectory(directory);
}
