// Extracts the ImageNet-initialised MobileNetV2 bundled in the npm package nsfwjs (MIT) into
// <out>/model.json + <out>/weights.bin for keras_net.py. The package ships each file as a UMD module
// exporting the JSON topology or the base64 weight shard, so it is read with require().
//   npm pack nsfwjs@4.4.0 && tar xzf nsfwjs-4.4.0.tgz
//   node models/train/extract_nsfwjs.cjs package/dist/models/mobilenet_v2 models/train/runs/mobilenet_v2
const fs = require('node:fs');
const path = require('node:path');

const [src, out] = process.argv.slice(2).map((p) => path.resolve(p));
if (!src || !out) {
  console.error('usage: extract_nsfwjs.cjs <nsfwjs dist/models/mobilenet_v2> <out folder>');
  process.exit(2);
}
const model = require(path.join(src, 'model.min.js'));
const shards = model.weightsManifest[0].paths.map((p) => {
  const s = require(path.join(src, `${p}.min.js`));
  return Buffer.from(typeof s === 'string' ? s : s.default, 'base64');
});
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify(model));
fs.writeFileSync(path.join(out, 'weights.bin'), Buffer.concat(shards));
console.log(`${out}: ${model.weightsManifest[0].weights.length} tensors, ${Buffer.concat(shards).length} bytes`);
