using System.Diagnostics.CodeAnalysis;
using Polly;
using Polly.Registry;
using TrackerService.Sinks;

namespace TrackerService.Tests.Infrastructure;

/// <summary>
/// The sink's resilience pipeline (<see cref="SinkResilience.Configure"/>) on a clock of the test's choosing, served
/// under its name as the service's DI registry serves it, for a <see cref="SinkWriter"/> built by hand.
/// </summary>
/// <remarks>
/// Not a <see cref="ResiliencePipelineRegistry{TKey}"/>: disposing one waits for the executions still in flight,
/// on the pipeline's clock, which a fake clock never moves on; a test that failed mid-write would hang.
/// </remarks>
internal sealed class SinkPipeline : ResiliencePipelineProvider<string>
{
    private readonly ResiliencePipeline _pipeline;

    public SinkPipeline(SinkOptions options, Func<Exception, bool> isTransient, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        SinkResilience.Configure(builder, options, isTransient);
        _pipeline = builder.Build();
    }

    public override bool TryGetPipeline(string key, [NotNullWhen(true)] out ResiliencePipeline? pipeline)
    {
        pipeline = key == SinkResilience.PipelineName ? _pipeline : null;
        return pipeline is not null;
    }

    public override bool TryGetPipeline<TResult>(string key, [NotNullWhen(true)] out ResiliencePipeline<TResult>? pipeline)
    {
        pipeline = null;
        return false;
    }
}
