namespace Ko.Engine.Pipeline;

/// <summary>Task helpers the stages share: fail fast, and collect the tasks a failure stopped.</summary>
internal static class Stages
{
    /// <summary>Waits for every task, ignoring their failures: they were stopped because of the one reported.</summary>
    public static async Task Quietly(IEnumerable<Task> tasks)
    {
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Only the first failure is reported.
        }
    }

    /// <summary>
    /// Waits for every task; at the first failure cancels the rest (<paramref name="onFailure"/>), waits for them and
    /// throws that failure (not the cancellations it caused, unless the caller cancelled: <paramref name="caller"/>).
    /// </summary>
    public static async Task WhenAllFailFastAsync(IReadOnlyList<Task> tasks, CancellationTokenSource onFailure, CancellationToken caller)
    {
        var pending = tasks.ToList();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending).ConfigureAwait(false);
            pending.Remove(done);
            if (done.IsFaulted || done.IsCanceled)
            {
                await onFailure.CancelAsync().ConfigureAwait(false);
                await Quietly(pending).ConfigureAwait(false);
                var first = done.IsCanceled && !caller.IsCancellationRequested ? tasks.FirstOrDefault(t => t.IsFaulted) ?? done : done;
                await first.ConfigureAwait(false);
            }
        }
    }
}
