// Runs an ONNX model with onnxruntime-node (an implementation Anpm did not write) and prints the outputs as JSON:
//   node reference.mjs MODEL.onnx INPUTS.json
// INPUTS.json: {"NAME": {"type": "float32"|"int64", "shape": [..], "data": [numbers]}}.
import { readFileSync } from "node:fs";
import ort from "onnxruntime-node";

const [model, inputsPath] = process.argv.slice(2);
const inputs = JSON.parse(readFileSync(inputsPath, "utf8"));
const feeds = {};
for (const [name, tensor] of Object.entries(inputs)) {
  const data = tensor.type === "int64" ? BigInt64Array.from(tensor.data.map(BigInt)) : Float32Array.from(tensor.data);
  feeds[name] = new ort.Tensor(tensor.type, data, tensor.shape);
}
const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" });
const results = await session.run(feeds);
const out = {};
for (const [name, tensor] of Object.entries(results)) {
  out[name] = { type: tensor.type, shape: tensor.dims, data: Array.from(tensor.data, (v) => (typeof v === "bigint" ? Number(v) : v)) };
}
process.stdout.write(JSON.stringify(out));
