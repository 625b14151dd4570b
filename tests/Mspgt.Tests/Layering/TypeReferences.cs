using System.Reflection;
using System.Reflection.Emit;

namespace Mspgt.Tests.Layering;

/// <summary>
/// Every type a type uses, read by reflection: its base type, interfaces, fields, properties, method and constructor
/// signatures, attributes, and every type, method and field token in its method bodies' IL (so a `new Foo()` or a
/// static call inside a method counts, not only signatures). Generic arguments count as well. Compiler-generated
/// nested types (lambdas, iterators, async state machines) belong to the type that declares them.
/// </summary>
internal static class TypeReferences
{
    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>The outermost declaring type: nested and compiler-generated types belong to it.</summary>
    public static Type Owner(Type t)
    {
        while (t.DeclaringType is { } d) t = d;
        return t;
    }

    /// <summary>All types referenced from <paramref name="type"/> (its nested types included).</summary>
    public static HashSet<Type> Of(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null) return;
            if (t.HasElementType) { Add(t.GetElementType()); return; }
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
            {
                foreach (var a in t.GetGenericArguments()) Add(a);
                t = t.GetGenericTypeDefinition();
            }
            if (t.IsGenericParameter) return;
            found.Add(t);
        }
        foreach (var t in Flatten(type))
        {
            Add(t.BaseType);
            foreach (var i in t.GetInterfaces()) Add(i);
            foreach (var a in t.GetCustomAttributesData()) Add(a.AttributeType);
            foreach (var f in t.GetFields(All)) Add(f.FieldType);
            foreach (var p in t.GetProperties(All)) Add(p.PropertyType);
            foreach (var m in t.GetMethods(All).Cast<MethodBase>().Concat(t.GetConstructors(All)))
            {
                if (m is MethodInfo mi) Add(mi.ReturnType);
                foreach (var p in m.GetParameters()) Add(p.ParameterType);
                foreach (var a in m.GetCustomAttributesData()) Add(a.AttributeType);
                ScanBody(m, Add);
            }
        }
        return found;
    }

    private static IEnumerable<Type> Flatten(Type t)
    {
        yield return t;
        foreach (var n in t.GetNestedTypes(All))
            foreach (var x in Flatten(n)) yield return x;
    }

    private static void ScanBody(MethodBase m, Action<Type?> add)
    {
        MethodBody? body;
        try { body = m.GetMethodBody(); } catch (Exception) { return; }
        if (body is null) return;
        foreach (var local in body.LocalVariables) add(local.LocalType);
        var il = body.GetILAsByteArray();
        if (il is null) return;
        var module = m.Module;
        Type[]? typeArgs = m.DeclaringType is { IsGenericType: true } dt ? dt.GetGenericArguments() : null;
        Type[]? methodArgs = m.IsGenericMethod ? m.GetGenericArguments() : null;
        int pos = 0;
        while (pos < il.Length)
        {
            short value = il[pos++];
            if (value == 0xFE) value = (short)(0xFE00 | il[pos++]);
            if (!OpCodesByValue.TryGetValue(value, out var op)) return; // unknown opcode: stop rather than misread
            int size = OperandSize(op.OperandType, il, pos);
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                int token = BitConverter.ToInt32(il, pos);
                try
                {
                    switch (module.ResolveMember(token, typeArgs, methodArgs))
                    {
                        case Type t: add(t); break;
                        case MethodBase mb:
                            add(mb.DeclaringType);
                            if (mb is MethodInfo { IsGenericMethod: true } gm) foreach (var a in gm.GetGenericArguments()) add(a);
                            break;
                        case FieldInfo f: add(f.DeclaringType); add(f.FieldType); break;
                    }
                }
                catch (ArgumentException) { } // tokens into other modules' generic contexts: not ours
            }
            pos += size;
        }
    }

    private static int OperandSize(OperandType t, byte[] il, int pos) => t switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, pos),
        _ => 4,
    };
}
