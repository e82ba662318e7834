using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Anpm.PublicApi.Tests;

/// <summary>
/// Renders the public surface of an assembly as stable, C#-like text: every public type with its public and protected
/// members, sorted, with nullability. PublicApiGenerator is not available here, so this is our own small version.
/// </summary>
public static class PublicApiText
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public static string Generate(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return Generate(assembly.GetExportedTypes());
    }

    public static string Generate(IEnumerable<Type> types)
    {
        var builder = new StringBuilder();
        foreach (var group in types.Where(t => !t.IsNested).GroupBy(t => t.Namespace ?? string.Empty).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            builder.Append("namespace ").AppendLine(group.Key);
            builder.AppendLine("{");
            foreach (var type in group.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                WriteType(builder, type, "    ");
            }

            builder.AppendLine("}");
        }

        return builder.ToString();
    }

    private static void WriteType(StringBuilder builder, Type type, string indent)
    {
        builder.Append(indent).AppendLine(TypeDeclaration(type));
        builder.Append(indent).AppendLine("{");
        var inner = indent + "    ";
        // Members by kind (fields, constructors, properties, events, methods), then name, then signature.
        foreach (var (_, _, line) in MemberLines(type).OrderBy(m => m.Kind).ThenBy(m => m.Name, StringComparer.Ordinal).ThenBy(m => m.Line, StringComparer.Ordinal))
        {
            builder.Append(inner).AppendLine(line);
        }

        foreach (var nested in type.GetNestedTypes(BindingFlags.Public).OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            WriteType(builder, nested, inner);
        }

        builder.Append(indent).AppendLine("}");
    }

    private static string TypeDeclaration(Type type)
    {
        var name = TypeName(type, withNamespace: false);
        if (type.IsEnum)
        {
            var flags = type.IsDefined(typeof(FlagsAttribute)) ? "[System.Flags] " : string.Empty;
            return $"{flags}public enum {name} : {TypeName(Enum.GetUnderlyingType(type))}";
        }

        if (typeof(Delegate).IsAssignableFrom(type.BaseType))
        {
            var invoke = type.GetMethod("Invoke")!;
            return $"public delegate {ReturnType(invoke)} {name}({Parameters(invoke)});";
        }

        string kind;
        if (type.IsInterface)
        {
            kind = "interface";
        }
        else if (type.IsValueType)
        {
            kind = (type.IsDefined(typeof(IsReadOnlyAttribute)) ? "readonly " : string.Empty) + (type.IsByRefLike ? "ref " : string.Empty) + "struct";
        }
        else if (type.IsAbstract && type.IsSealed)
        {
            kind = "static class";
        }
        else
        {
            kind = (type.IsAbstract ? "abstract " : type.IsSealed ? "sealed " : string.Empty) + "class";
        }

        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType))
        {
            bases.Add(TypeName(baseType));
        }

        bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(i => TypeName(i)).Order(StringComparer.Ordinal));
        var constraints = type.IsGenericTypeDefinition ? Constraints(type.GetGenericArguments()) : string.Empty;
        return $"public {kind} {name}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : string.Empty)}{constraints}";
    }

    private static IEnumerable<(int Kind, string Name, string Line)> MemberLines(Type type)
    {
        if (type.IsEnum)
        {
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                var value = Convert.ToInt64(field.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);
                yield return (0, value.ToString("D20", System.Globalization.CultureInfo.InvariantCulture), $"{field.Name} = {value},");
            }

            yield break;
        }

        if (typeof(Delegate).IsAssignableFrom(type.BaseType))
        {
            yield break;
        }

        foreach (var field in type.GetFields(Declared).Where(IsVisible))
        {
            var modifiers = field.IsLiteral ? "const " : (field.IsStatic ? "static " : string.Empty) + (field.IsInitOnly ? "readonly " : string.Empty);
            var value = field.IsLiteral ? " = " + Literal(field.GetRawConstantValue()) : string.Empty;
            yield return (0, field.Name, $"{Access(field.IsPublic)} {modifiers}{TypeName(field.FieldType, new NullabilityInfoContext().Create(field))} {field.Name}{value};");
        }

        foreach (var constructor in type.GetConstructors(Declared).Where(c => IsVisible(c) && !c.IsStatic))
        {
            yield return (1, string.Empty, $"{Access(constructor.IsPublic)} {TypeName(type, withNamespace: false).Split('<')[0]}({Parameters(constructor)});");
        }

        foreach (var property in type.GetProperties(Declared))
        {
            var accessors = new[] { property.GetMethod, property.SetMethod }.Where(m => m is not null && IsVisible(m)).ToArray();
            if (accessors.Length == 0)
            {
                continue;
            }

            var first = accessors[0]!;
            var text = string.Join(" ", accessors.Select(m => m == property.GetMethod ? "get;" : IsInitOnly(m!) ? "init;" : "set;"));
            var indexer = property.GetIndexParameters().Length > 0 ? $"this[{Parameters(property.GetIndexParameters())}]" : property.Name;
            yield return (2, property.Name, $"{Access(first.IsPublic)} {Modifiers(first, type)}{TypeName(property.PropertyType, new NullabilityInfoContext().Create(property))} {indexer} {{ {text} }}");
        }

        foreach (var @event in type.GetEvents(Declared).Where(e => e.AddMethod is { } add && IsVisible(add)))
        {
            yield return (3, @event.Name, $"{Access(@event.AddMethod!.IsPublic)} {Modifiers(@event.AddMethod, type)}event {TypeName(@event.EventHandlerType!)} {@event.Name};");
        }

        foreach (var method in type.GetMethods(Declared).Where(m => IsVisible(m) && !m.IsSpecialName || m.Name.StartsWith("op_", StringComparison.Ordinal) && IsVisible(m)))
        {
            var generic = method.IsGenericMethodDefinition
                ? "<" + string.Join(", ", method.GetGenericArguments().Select(a => a.Name)) + ">" + Constraints(method.GetGenericArguments())
                : string.Empty;
            var extension = method.IsDefined(typeof(ExtensionAttribute)) ? "this " : string.Empty;
            yield return (4, method.Name, $"{Access(method.IsPublic)} {Modifiers(method, type)}{ReturnType(method)} {method.Name}{generic}({extension}{Parameters(method)});");
        }
    }

    private static bool IsVisible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static bool IsVisible(FieldInfo field) => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly;

    private static string Access(bool isPublic) => isPublic ? "public" : "protected";

    private static bool IsInitOnly(MethodInfo setter) =>
        setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit));

    private static string Modifiers(MethodInfo method, Type declaringType)
    {
        if (method.IsStatic)
        {
            return method.IsAbstract ? "static abstract " : method.IsVirtual ? "static virtual " : "static ";
        }

        if (declaringType.IsInterface)
        {
            return string.Empty;
        }

        if (method.IsAbstract)
        {
            return "abstract ";
        }

        if (method.IsVirtual && !method.IsFinal)
        {
            return method.GetBaseDefinition() == method ? "virtual " : "override ";
        }

        return method.IsVirtual && method.GetBaseDefinition() != method ? "sealed override " : string.Empty;
    }

    private static string ReturnType(MethodInfo method) =>
        TypeName(method.ReturnType, new NullabilityInfoContext().Create(method.ReturnParameter));

    private static string Parameters(MethodBase method) => Parameters(method.GetParameters());

    private static string Parameters(ParameterInfo[] parameters) => string.Join(", ", parameters.Select(p =>
    {
        var type = p.ParameterType;
        var prefix = string.Empty;
        if (type.IsByRef)
        {
            prefix = p.IsOut ? "out " : p.IsIn ? "in " : "ref ";
        }

        if (p.IsDefined(typeof(ParamArrayAttribute)))
        {
            prefix = "params ";
        }

        var text = $"{prefix}{TypeName(type, new NullabilityInfoContext().Create(p))} {p.Name}";
        var defaultValue = p.RawDefaultValue is null && type.IsValueType ? "default" : Literal(p.RawDefaultValue);
        return p.HasDefaultValue ? $"{text} = {defaultValue}" : text;
    }));

    private static string Constraints(Type[] arguments)
    {
        var clauses = new List<string>();
        foreach (var argument in arguments)
        {
            var parts = new List<string>();
            var attributes = argument.GenericParameterAttributes;
            if ((attributes & GenericParameterAttributes.NotNullableValueTypeConstraint) != 0)
            {
                parts.Add("struct");
            }
            else if ((attributes & GenericParameterAttributes.ReferenceTypeConstraint) != 0)
            {
                parts.Add("class");
            }

            parts.AddRange(argument.GetGenericParameterConstraints().Where(c => c != typeof(ValueType)).Select(c => TypeName(c)));
            if ((attributes & GenericParameterAttributes.DefaultConstructorConstraint) != 0 && (attributes & GenericParameterAttributes.NotNullableValueTypeConstraint) == 0)
            {
                parts.Add("new()");
            }

            if (parts.Count > 0)
            {
                clauses.Add($" where {argument.Name} : {string.Join(", ", parts)}");
            }
        }

        return string.Concat(clauses);
    }

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string s => "\"" + s + "\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };

    private static string TypeName(Type type, NullabilityInfo? nullability = null, bool withNamespace = true)
    {
        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!, nullability, withNamespace);
        }

        var suffix = nullability is { ReadState: NullabilityState.Nullable } && !type.IsValueType ? "?" : string.Empty;
        if (type.IsArray)
        {
            return TypeName(type.GetElementType()!, nullability?.ElementType, withNamespace) + "[]" + suffix;
        }

        if (type.IsGenericParameter)
        {
            return type.Name + suffix;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return TypeName(underlying, null, withNamespace) + "?";
        }

        var name = Keyword(type) ?? ((withNamespace ? type.Namespace + "." : string.Empty) + (type.IsNested ? TypeName(type.DeclaringType!, null, false) + "." : string.Empty) + type.Name.Split('`')[0]);
        if (type.IsGenericType)
        {
            var arguments = type.GetGenericArguments();
            var argumentNullability = nullability?.GenericTypeArguments;
            name += "<" + string.Join(", ", arguments.Select((a, i) => TypeName(a, argumentNullability is { Length: > 0 } n && i < n.Length ? n[i] : null))) + ">";
        }

        return name + suffix;
    }

    private static string? Keyword(Type type) => type == typeof(void) ? "void"
        : type == typeof(object) ? "object"
        : type == typeof(string) ? "string"
        : type == typeof(bool) ? "bool"
        : type == typeof(byte) ? "byte"
        : type == typeof(char) ? "char"
        : type == typeof(int) ? "int"
        : type == typeof(uint) ? "uint"
        : type == typeof(long) ? "long"
        : type == typeof(ulong) ? "ulong"
        : type == typeof(double) ? "double"
        : null;
}
