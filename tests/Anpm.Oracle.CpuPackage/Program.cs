// Runs inference requests through OnnxInferenceBackend on ONNX Runtime's CPU package and prints what it produced:
//   dotnet Anpm.Oracle.CpuPackage.dll REQUESTS.json
// REQUESTS.json: {"device": "Auto"|"Cpu", "models": {"ID": "PATH"}, "requests": [{"model": "ID", "input": "model input text"}]}
// Output (stdout, one JSON object): {"runtime": VERSION, "models": {"ID": {"device": …, "fallbackReason": …}}, "outputs": [canonical text | "failed: reason"]}
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Oracle;
using Microsoft.Extensions.Options;

using var requests = JsonDocument.Parse(File.ReadAllText(args[0]));
var options = new OnnxBackendOptions { Device = Enum.Parse<ExecutionDevice>(requests.RootElement.GetProperty("device").GetString()!) };
foreach (var model in requests.RootElement.GetProperty("models").EnumerateObject())
{
    options.Models[model.Name] = model.Value.GetString()!;
}

using var backend = new OnnxInferenceBackend(Options.Create(options));
var outputs = new JsonArray();
foreach (var request in requests.RootElement.GetProperty("requests").EnumerateArray())
{
    var id = request.GetProperty("model").GetString()!;
    try
    {
        var result = await backend.RunAsync(new InferenceRequest(id, backend.Models[id].Sha256, request.GetProperty("input").GetString()!));
        outputs.Add(result.Output);
    }
    catch (InferenceFailedException exception)
    {
        outputs.Add("failed: " + exception.Message);
    }
}

var models = new JsonObject();
foreach (var (id, model) in backend.Models)
{
    models[id] = new JsonObject { ["device"] = model.Device.ToString(), ["fallbackReason"] = model.FallbackReason };
}

Console.WriteLine(new JsonObject { ["runtime"] = backend.RuntimeVersion, ["models"] = models, ["outputs"] = outputs }.ToJsonString());
