using System.Collections.Concurrent;
using System.Diagnostics;

namespace TrackerService.Tests.Infrastructure;

/// <summary>The exporter's collection, safe to read while consumers' spans are being added.</summary>
internal sealed class SpanCollection(ConcurrentQueue<Activity> spans) : ICollection<Activity>
{
    public int Count => spans.Count;

    public bool IsReadOnly => false;

    public void Add(Activity item) => spans.Enqueue(item);

    public void Clear() => spans.Clear();

    public bool Contains(Activity item) => spans.Contains(item);

    public void CopyTo(Activity[] array, int arrayIndex) => spans.CopyTo(array, arrayIndex);

    public bool Remove(Activity item) => throw new NotSupportedException();

    public IEnumerator<Activity> GetEnumerator() => spans.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
