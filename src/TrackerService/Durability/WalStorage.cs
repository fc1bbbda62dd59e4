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

    /// <summary>Makes what was written to <paramref name="file"/> durable (fdatasync on Linux).</summary>
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

    public void Sync(SafeFileHandle file) => RandomAccess.FlushToDisk(file);

    public void SetLength(SafeFileHandle file, long length) => RandomAccess.SetLength(file, length);

    public void SyncDirectory(string directory) => DirectorySync.Sync(directory);
}

/// <summary>
/// fsync of a folder. .NET opens no handle on a folder (<see cref="File.OpenHandle"/> refuses one), so on Unix this is
/// open(2) O_RDONLY|O_DIRECTORY, fsync(2) and close(2) through libc; on Windows, where NTFS makes a new entry durable
/// with the file's metadata, it does nothing.
/// </summary>
internal static class DirectorySync
{
    private const int O_RDONLY = 0;
    private const int O_DIRECTORY_LINUX = 0x10000;
    private const int O_CLOEXEC_LINUX = 0x80000;

    public static void Sync(string directory)
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
            throw Failure("open", directory);
        }

        try
        {
            if (FSync(fd) != 0)
            {
                throw Failure("fsync", directory);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static IOException Failure(string call, string directory)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} of the folder {directory} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
    }

    // The path goes as NUL-terminated UTF-8 bytes, so nothing is marshalled but a pinned array.
    [DllImport("libc", EntryPoint = "open", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int FSync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int fd);
}
