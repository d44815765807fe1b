namespace AutoDiffLstm;

/// <summary>
/// Work a caller hands to a worker to run beside it (<see cref="WorkerTeam.TryPostSideJob"/>): the caller owns the
/// object, reuses it from one post to the next, and waits for it with <see cref="Wait"/>.
/// </summary>
internal abstract class SideJob
{
    private int pending;            // 1 from posting until the job has run
    private Exception? failure;

    /// <summary>The work, run on the worker.</summary>
    public abstract void Run();

    /// <summary>Whether the job is posted and has not finished.</summary>
    public bool IsPending => Volatile.Read(ref pending) != 0;

    internal void MarkPosted()
    {
        failure = null;
        Volatile.Write(ref pending, 1);
    }

    internal void Complete(Exception? failed)
    {
        failure = failed;
        Volatile.Write(ref pending, 0);
    }

    /// <summary>
    /// Waits until the job (if posted) has run. Its failure, if it failed, is thrown once, or discarded when not
    /// <paramref name="rethrow"/> (a caller already unwinding from its own failure only needs the job to be over).
    /// </summary>
    public void Wait(bool rethrow = true)
    {
        var spin = new SpinWait();
        while (Volatile.Read(ref pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
        if (Interlocked.Exchange(ref failure, null) is { } e && rethrow) throw new AggregateException("A side job failed.", e);
    }
}
