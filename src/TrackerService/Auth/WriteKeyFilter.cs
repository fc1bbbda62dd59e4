namespace TrackerService.Auth;

/// <summary>
/// Holds an endpoint whose key can only come in a header (<c>POST /events</c>) to <see cref="IntakeAccess.Decide"/>
/// before its handler reads the body: a refused request gets its problem and changes nothing. The handler reads the
/// source id from <see cref="IntakeAccess.Current"/>.
/// </summary>
internal sealed class WriteKeyFilter(IntakeAccess access) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var decision = access.Decide(context.HttpContext, bodyWriteKey: null);
        if (!decision.Allowed)
        {
            return ValueTask.FromResult<object?>(decision.Refusal);
        }

        IntakeAccess.SetCurrent(context.HttpContext, decision);
        return next(context);
    }
}
