using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// A system server a fixture runs in the foreground (nats-server, nginx): its output kept for failure messages, real
/// signals, and a wait for its exit that fails loudly instead of hanging the test.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public ServerProcess(string executable, IEnumerable<string> arguments, string folder)
    {
        _process = Process.Start(Shell.Redirected(executable, arguments, folder)) ?? throw new InvalidOperationException($"{executable} did not start");
        _process.StandardInput.Close();
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Sends a real signal (<c>TERM</c>, <c>HUP</c>, <c>QUIT</c>) with <c>kill</c>.</summary>
    public void Signal(string signal)
    {
        if (!_process.HasExited && !Shell.Run("kill", $"-{signal}", _process.Id.ToString(CultureInfo.InvariantCulture)) && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed");
        }
    }

    /// <summary>SIGKILL: no clean-up of any kind, as a lost machine. Waits for the process to be gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(); // SIGKILL on Unix
        }

        WaitForExit(TimeSpan.FromSeconds(10), "SIGKILL");
    }

    /// <summary>Waits for the process to exit after <paramref name="cause"/>, or fails showing its output.</summary>
    public void WaitForExit(TimeSpan timeout, string cause)
    {
        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException($"{_process.StartInfo.FileName} was still running {timeout.TotalSeconds} s after {cause}. Output:\n{Output}");
        }

        _process.WaitForExit(); // and the output is read to its end
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true); // nginx's workers too
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
