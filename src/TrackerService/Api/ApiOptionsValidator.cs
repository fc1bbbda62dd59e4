using Microsoft.Extensions.Options;
using TrackerService.Options;

namespace TrackerService.Api;

internal sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options) => new OptionsCheck(ApiOptions.Section)
        .Range(nameof(options.MaxBodyBytes), options.MaxBodyBytes, 1024, 64 * 1024 * 1024)
        .Range(nameof(options.MaxBatchEvents), options.MaxBatchEvents, 1, 100_000)
        .Range(nameof(options.MaxSegmentBatchEvents), options.MaxSegmentBatchEvents, 1, 100_000)
        .Range(nameof(options.MaxEventBytes), options.MaxEventBytes, 256, options.MaxBodyBytes)
        .Result();
}
