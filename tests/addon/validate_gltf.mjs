// Validate a .glb with the Khronos glTF-Validator; prints the report's issue summary as JSON.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.argv[3] + "/");
const validator = require("gltf-validator");
const data = new Uint8Array(readFileSync(process.argv[2]));
const report = await validator.validateBytes(data, { maxIssues: 100 });
const errors = report.issues.messages.filter((m) => m.severity === 0);
console.log(JSON.stringify({ numErrors: report.issues.numErrors, numWarnings: report.issues.numWarnings,
  errors: errors.slice(0, 10), info: report.info }));
