using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace TrackerService.Spill;

/// <summary>One line of a segment, as read.</summary>
/// <param name="Text">The line without its line break; null when it was too long to be an event and was skipped unread.</param>
/// <param name="Bytes">The bytes it took in the file, line break included.</param>
/// <param name="Unterminated">It is the file's last line and has no line break: a write that may have been cut short.</param>
internal readonly record struct SpillLine(byte[]? Text, long Bytes, bool Unterminated)
{
    public bool TooLong => Text is null;
}

/// <summary>A segment that could not be read (gone, no permission, an I/O error): not the store's fault, so replay goes on with the next.</summary>
internal sealed class SpillUnreadableException(string path, Exception inner)
    : IOException($"The spill segment {path} could not be read: {inner.Message}", inner);

/// <summary>
/// Reads a segment as a stream, one line at a time, so memory stays bounded whatever the file's size: a line
/// longer than <c>maxLineBytes</c> is longer than any event the service writes, and is skipped without being
/// held whole (it is damage, and the segment is kept aside).
/// </summary>
internal static class SpillLines
{
    public static async IAsyncEnumerable<SpillLine> ReadAsync(string path, int maxLineBytes, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var file = Open(path);
        await using (file.ConfigureAwait(false))
        {
            var reader = PipeReader.Create(file, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
            long skipped = 0; // bytes of a too-long line read past so far
            while (true)
            {
                var result = await ReadAsync(reader, path, cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                    if (skipped > 0 || line.Length > maxLineBytes)
                    {
                        yield return new SpillLine(null, skipped + line.Length + 1, Unterminated: false);
                        skipped = 0;
                    }
                    else
                    {
                        yield return new SpillLine(line.ToArray(), line.Length + 1, Unterminated: false);
                    }
                }

                if (result.IsCompleted)
                {
                    if (skipped > 0 || buffer.Length > maxLineBytes)
                    {
                        yield return new SpillLine(null, skipped + buffer.Length, Unterminated: true);
                    }
                    else if (buffer.Length > 0)
                    {
                        yield return new SpillLine(buffer.ToArray(), buffer.Length, Unterminated: true);
                    }

                    await reader.CompleteAsync().ConfigureAwait(false);
                    yield break;
                }

                if (buffer.Length > maxLineBytes)
                {
                    // Too long to be an event: let go of it as it is read, and skip to the next line break.
                    skipped += buffer.Length;
                    reader.AdvanceTo(buffer.End);
                }
                else
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }
            }
        }
    }

    private static FileStream Open(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SpillUnreadableException(path, ex);
        }
    }

    private static async ValueTask<ReadResult> ReadAsync(PipeReader reader, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SpillUnreadableException(path, ex);
        }
    }
}
