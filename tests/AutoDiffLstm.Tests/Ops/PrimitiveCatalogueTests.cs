using System.Reflection;
using FsCheck;
using FsCheck.Fluent;

namespace AutoDiffLstm.Tests.Ops;

/// <summary>
/// Keeps the catalogue honest: every backward rule of the engine has a spec (a new primitive without one fails here),
/// every spec records exactly the rules it claims, and failing cases really shrink.
/// </summary>
public class PrimitiveCatalogueTests
{
    /// <summary>The Name of every concrete backward rule in the engine assembly, read from its singleton.</summary>
    private static List<string> RuleNames()
    {
        var names = new List<string>();
        var assembly = typeof(Tensor<double>).Assembly;
        // Elementwise primitives share one driver rule, closed over each formula: UnaryRule<double, TanhFormula>, ...
        var formulas = assembly.GetTypes().Where(t => t.IsValueType && typeof(IUnaryFormula).IsAssignableFrom(t)).ToList();
        foreach (var type in assembly.GetTypes())
        {
            // A user-defined primitive's rule has no fixed name: each CustomPrimitive is checked by its own tests.
            // A compiled step's fused group, and a whole compiled sequence, are made of catalogued primitives (checked by the
            // compiled-step tests), not one themselves.
            if (type.IsAbstract || !DerivesFromBackwardRule(type) || type == typeof(CustomRule<>) || type == typeof(FusedGroupRule<>) || type == typeof(FusedOutputRule<>)
                || type == typeof(SequenceRule<>) || type == typeof(SequenceStackRule<>)) continue;
            if (type == typeof(UnaryRule<,>))
            {
                foreach (var f in formulas)
                    names.Add(((IBackwardRule)type.MakeGenericType(typeof(double), f).GetField("Instance")!.GetValue(null)!).Name);
                continue;
            }
            var closed = type.IsGenericTypeDefinition ? type.MakeGenericType(typeof(double)) : type;
            var rule = closed.GetField("Instance", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null)
                       ?? Activator.CreateInstance(closed, nonPublic: true);
            names.Add(((IBackwardRule)rule!).Name);
        }
        return names;
    }

    private static bool DerivesFromBackwardRule(Type type)
    {
        for (var b = type.BaseType; b is not null; b = b.BaseType)
            if (b.IsGenericType && b.GetGenericTypeDefinition() == typeof(BackwardRule<>)) return true;
        return false;
    }

    [Fact]
    public void EveryBackwardRuleOfTheEngineHasASpec()
    {
        var rules = RuleNames();
        Assert.True(rules.Count >= 27, $"found only {rules.Count} backward rules by reflection ({string.Join(", ", rules)}); the scan is broken");
        var specs = PrimitiveSpecs<double>.All.Select(s => s.Name).ToHashSet();
        var missing = rules.Where(r => !specs.Contains(r)).ToList();
        Assert.True(missing.Count == 0, $"backward rules without a spec in PrimitiveSpecs: {string.Join(", ", missing)}; add one per new primitive");
    }

    [Fact]
    public void SpecNamesAreUniqueAndTheCatalogueIsTheSameForFloatAndDouble()
    {
        var names = PrimitiveSpecs<double>.All.Select(s => s.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(names, PrimitiveSpecs<float>.All.Select(s => s.Name));
    }

    /// <summary>
    /// Over 40 random cases of a spec, the operations on the tape are exactly its declared rules: a spec named after a
    /// rule really exercises that rule, and a composed operation is composed of what it says.
    /// </summary>
    [Theory]
    [MemberData(nameof(PrimitiveSpecs.Names), MemberType = typeof(PrimitiveSpecs))]
    public void SpecRecordsExactlyItsDeclaredRules(string primitive)
    {
        var spec = PrimitiveSpecs.Get<double>(primitive);
        if (RuleNames().Contains(spec.Name)) Assert.Contains(spec.Name, spec.Rules);
        var seen = new HashSet<string>();
        foreach (var c in PrimitiveCases.For(spec).Generator.Sample(40))
        {
            Tape.Current.Reset();
            var inputs = PrimitiveGradientProperties.Inputs<double>(c).Select(t => t.RequireGrad()).ToArray();
            spec.Apply(c, inputs);
            var ops = Tape.Current.OperationNames();
            Assert.True(ops.All(spec.Rules.Contains), $"{spec.Name} on {c.Shapes} recorded [{string.Join(", ", ops)}], declared [{string.Join(", ", spec.Rules)}]");
            seen.UnionWith(ops);
        }
        Tape.Current.Reset();
        Assert.True(spec.Rules.All(seen.Contains), $"{spec.Name} never recorded {string.Join(", ", spec.Rules.Except(seen))} in 40 cases");
    }

    /// <summary>
    /// A property that fails for every input of 4 or more elements must shrink to exactly 4 elements, all equal to the
    /// range's simple value (0 for Exp): shrinking reaches the smallest shape and the plainest values.
    /// </summary>
    [Fact]
    public void AFailingCaseShrinksToTheSmallestShapeAndPlainestValues()
    {
        var spec = PrimitiveSpecs.Get<double>("Exp");
        var property = Prop.ForAll(PrimitiveCases.For(spec), c => (c.Values[0].Length < 4).Label(c.ToString()));
        var failure = Assert.ThrowsAny<Exception>(() => property.Check(Config.QuickThrowOnFailure.WithMaxTest(200)));
        string shrunk = failure.Message[failure.Message.IndexOf("Shrunk:", StringComparison.Ordinal)..];
        Assert.Matches(@"x0\[(4|1, 4|2, 2|4, 1|1, 2, 2|2, 1, 2|2, 2, 1)\] = \{0, 0, 0, 0\}", shrunk);
    }
}
