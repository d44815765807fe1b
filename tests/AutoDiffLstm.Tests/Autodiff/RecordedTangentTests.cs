namespace AutoDiffLstm.Tests.Autodiff;

/// <summary>
/// A rule with two forms of its forward-mode derivative: unrecorded (one kernel into one buffer, what Autograd.Jvp and
/// the HVP's tangent pass use) and recorded (the same sum as the engine's own operations, so that a tangent can itself
/// be differentiated). Both must give the same tangent; the recorded one must be on the tape.
/// </summary>
public class RecordedTangentTests
{
    [Theory]
    [InlineData(true, true, true)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, false, true)]
    [InlineData(false, true, true)]
    public void LinearsTangentIsTheSameRecordedOrNot(bool withX, bool withW, bool withB)
    {
        var rng = new Rng(5);
        var x = Tensor.RandomNormal<double>(rng, [3, 2, 4]).RequireGrad();
        var w = Tensor.RandomNormal<double>(rng, [5, 4]).RequireGrad();
        var b = Tensor.RandomNormal<double>(rng, [5]).RequireGrad();
        var (tx, tw, tb) = (Tensor.RandomNormal<double>(rng, [3, 2, 4]), Tensor.RandomNormal<double>(rng, [5, 4]), Tensor.RandomNormal<double>(rng, [5]));
        // The reference, written out: dy = dx W^T + x dW^T + db.
        var expected = Tensor.Zeros<double>([3, 2, 5]);
        using (Autograd.NoGrad())
        {
            if (withX) expected += tx.Linear(w);
            if (withW) expected += x.Linear(tw);
            if (withB) expected += tb;
        }
        foreach (bool recorded in new[] { false, true })
        {
            using var scope = Tape.UsePrivateTape();
            var y = x.Linear(w, b);
            var tangents = new Tangents();
            if (withX) tangents.Seed(x, tx, "test");
            if (withW) tangents.Seed(w, tw, "test");
            if (withB) tangents.Seed(b, tb, "test");
            if (recorded) Tape.Current.PushTangents(0, Tape.Current.Count, tangents);
            else using (Autograd.NoGrad()) Tape.Current.PushTangents(0, Tape.Current.Count, tangents);
            var got = tangents.Of<double>(y)!;
            Assert.Equal([3, 2, 5], got.Shape);
            Approx.Equal(expected.ToArray(), got.ToArray(), 1e-14);
            // Recorded, the tangent is on the tape (it reads x or W, which require gradients); unrecorded, it is not.
            Assert.Equal(recorded, got.RequiresGrad);
        }
    }
}
