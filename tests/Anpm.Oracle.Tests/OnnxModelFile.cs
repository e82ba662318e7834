using System.Text;

namespace Anpm.Oracle.Tests;

/// <summary>
/// Tiny ONNX models written byte by byte (the protobuf encoding of onnx.proto's ModelProto), for behaviour no committed
/// model shows — such as a model whose declared output dimensions are wrong.
/// </summary>
internal static class OnnxModelFile
{
    /// <summary>
    /// <c>Y = Concat(X, X)</c> on a float vector, declared as <c>X: [N] → Y: [N]</c> although Y has 2N elements: the
    /// declared dimensions promise a shape the model does not produce.
    /// </summary>
    public static byte[] MislabeledConcat()
    {
        var axis = Message(Text(1, "axis"), Varint(3, 0), Varint(20, 2)); // AttributeProto: name, i, type INT
        var node = Message(Text(1, "X"), Text(1, "X"), Text(2, "Y"), Text(4, "Concat"), Field(5, axis));
        var graph = Message(Field(1, node), Text(2, "mislabeled"), Field(11, Vector("X", "N")), Field(12, Vector("Y", "N")));
        var opset = Message(Text(1, string.Empty), Varint(2, 13));
        return Message(Varint(1, 8), Field(8, opset), Field(7, graph)); // ModelProto: ir_version 8, opset 13, graph
    }

    // ValueInfoProto { name, type: TypeProto { tensor_type: { elem_type FLOAT, shape: [dim_param] } } }
    private static byte[] Vector(string name, string dimension) =>
        Message(Text(1, name), Field(2, Message(Field(1, Message(Varint(1, 1), Field(2, Message(Field(1, Message(Text(2, dimension))))))))));

    private static byte[] Message(params byte[][] fields) => [.. fields.SelectMany(f => f)];

    private static byte[] Text(int field, string text) => Field(field, Encoding.UTF8.GetBytes(text));

    private static byte[] Field(int field, byte[] bytes) => [.. Key(field, 2), .. Number((ulong)bytes.Length), .. bytes];

    private static byte[] Varint(int field, ulong value) => [.. Key(field, 0), .. Number(value)];

    private static byte[] Key(int field, int wireType) => Number((ulong)((field << 3) | wireType));

    private static byte[] Number(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var low = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? low : (byte)(low | 0x80));
        }
        while (value != 0);

        return [.. bytes];
    }
}
