// Builds the app into dist/ (or the directory given as the first argument): one hashed
// JavaScript bundle and one hashed stylesheet under assets/, and index.html naming them.
// Deterministic for the pinned esbuild: the test suite rebuilds and compares with dist/.
import { rmSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "dist"));

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: "src/main.ts", styles: "src/styles.css" },
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2020"],
  minify: true,
  legalComments: "none",
  charset: "utf8",
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
const pick = (prefix, ext) => {
  const found = outputs.filter((file) => file.startsWith(prefix) && file.endsWith(ext));
  if (found.length !== 1) throw new Error(`expected one ${prefix}*${ext}, got ${found}`);
  return found[0];
};
const html = readFileSync(join(here, "index.html"), "utf8")
  .replace("{{js}}", pick("app-", ".js"))
  .replace("{{css}}", pick("styles-", ".css"));
writeFileSync(join(out, "index.html"), html);
console.log(`built ${outputs.join(", ")} and index.html into ${out}`);
