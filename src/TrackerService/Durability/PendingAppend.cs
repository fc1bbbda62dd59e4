namespace TrackerService.Durability;

/// <summary>One append waiting for its commit.</summary>
internal sealed class PendingAppend(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    : TaskCompletionSource<WalPosition>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public ReadOnlyMemory<byte> Payload { get; } = payload;

    public CancellationToken CancellationToken { get; } = cancellationToken;
}
