// Runs a TypeScript file with node: node run_ts.mjs FILE.ts
// Transpiled only (no type check) by the pinned typescript package, into this folder so that
// its imports resolve against this folder's node_modules, and removed afterwards.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

const source = readFileSync(process.argv[2], "utf8");
const { outputText } = ts.transpileModule(source, {
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
});
const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, `.${basename(process.argv[2], ".ts")}-${process.pid}.mjs`);
writeFileSync(output, outputText);
try {
  await import(pathToFileURL(output).href);
} finally {
  rmSync(output, { force: true });
}
