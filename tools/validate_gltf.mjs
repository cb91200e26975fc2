// Validate a glTF/GLB file with the Khronos validator; print its JSON report on stdout.
// Usage: node tools/validate_gltf.mjs FILE.glb   (exit code 0 even with issues: read the report)
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const validator = require("gltf-validator");

const path = process.argv[2];
const data = new Uint8Array(await readFile(path));
const report = await validator.validateBytes(data, {
  uri: path,
  maxIssues: 100,
  externalResourceFunction: () => Promise.reject(new Error("external resources are not used")),
});
process.stdout.write(JSON.stringify(report));
