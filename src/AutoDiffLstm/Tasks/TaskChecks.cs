namespace AutoDiffLstm.Tasks;

/// <summary>Argument checks shared by the task generators, so every task words its errors the same way.</summary>
internal static class TaskChecks
{
    public static void SequenceLength(string task, int length, int minimum, string meaning, string paramName = "sequenceLength")
    {
        if (length < minimum)
            throw new ArgumentException($"{task}: sequence length {length} is too short; the task needs {meaning} >= {minimum}.", paramName);
    }

    public static void BatchSize(string task, int batchSize)
    {
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"{task}.NextBatch: batch size must be > 0, got {batchSize}.");
    }

    /// <summary>Sets the one-hot row of (step, b) in a [steps, B, size] buffer.</summary>
    public static void SetOneHot<T>(T[] data, int batchSize, int size, int step, int b, int id) where T : System.Numerics.INumberBase<T>
        => data[(step * batchSize + b) * size + id] = T.One;
}
