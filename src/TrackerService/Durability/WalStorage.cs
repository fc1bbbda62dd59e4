using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace TrackerService.Durability;

/// <summary>
/// The file operations the log's writer makes, behind an interface so a test can make a write or a sync fail
/// (a full disk, an I/O error) without a small filesystem.
/// </summary>
internal interface IWalStorage
{
    void Write(SafeFileHandle file, ReadOnlySpan<byte> bytes, long offset);

    /// <summary>Makes what was written to <paramref name="file"/> durable (fdatasync on Linux, fsync elsewhere).</summary>
    void Sync(SafeFileHandle file);

    void SetLength(SafeFileHandle file, long length);

    /// <summary>Makes the folder's entries (a new, renamed or deleted file) durable.</summary>
    void SyncDirectory(string directory);
}

/// <summary>The real disk.</summary>
internal sealed class DiskStorage : IWalStorage
{
    public static DiskStorage Instance { get; } = new();

    public void Write(SafeFileHandle file, ReadOnlySpan<byte> bytes, long offset) => RandomAccess.Write(file, bytes, offset);

    public void Sync(SafeFileHandle file) => DiskSync.Data(file);

    public void SetLength(SafeFileHandle file, long length) => RandomAccess.SetLength(file, length);

    public void SyncDirectory(string directory) => DiskSync.Directory(directory);
}

/// <summary>
/// The syncs .NET does not offer. <see cref="RandomAccess.FlushToDisk"/> is fsync(2), which also writes the inode's
/// times; on Linux <see cref="Data"/> is fdatasync(2), which writes only what reading the data back needs (the new
/// size included). .NET opens no handle on a folder (<see cref="File.OpenHandle"/> refuses one), so on Unix
/// <see cref="Directory"/> is open(2) O_RDONLY|O_DIRECTORY, fsync(2) and close(2) through libc; on Windows, where NTFS
/// makes a new entry durable with the file's metadata, it does nothing.
/// </summary>
internal static class DiskSync
{
    private const int O_RDONLY = 0;
    private const int O_DIRECTORY_LINUX = 0x10000;
    private const int O_CLOEXEC_LINUX = 0x80000;

    public static void Data(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux())
        {
            RandomAccess.FlushToDisk(file);
            return;
        }

        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            if (FDataSync((int)file.DangerousGetHandle()) != 0)
            {
                throw Failure("fdatasync", "a write-ahead log segment");
            }
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    public static void Directory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var flags = O_RDONLY | (OperatingSystem.IsLinux() ? O_DIRECTORY_LINUX | O_CLOEXEC_LINUX : 0);
        var path = Encoding.UTF8.GetBytes(Path.GetFullPath(directory) + "\0");
        var fd = Open(path, flags);
        if (fd < 0)
        {
            throw Failure("open", "the folder " + directory);
        }

        try
        {
            if (FSync(fd) != 0)
            {
                throw Failure("fsync", "the folder " + directory);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static IOException Failure(string call, string what)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} of {what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
    }

    // The path goes as NUL-terminated UTF-8 bytes, so nothing is marshalled but a pinned array.
    [DllImport("libc", EntryPoint = "open", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int FSync(int fd);

    [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int FDataSync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int fd);
}
