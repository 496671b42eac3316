// Unit tests of the UI's pure logic (no browser): bundles unit/*.test.mjs, which import the
// TypeScript sources, with Vite into a temporary folder and runs them with node's test runner.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const tests = readdirSync(here).filter((f) => f.endsWith(".test.mjs"));
const out = mkdtempSync(join(tmpdir(), "wattguard-web-unit-"));
try {
  await build({
    configFile: false,
    logLevel: "warn",
    build: {
      outDir: out,
      emptyOutDir: true,
      minify: false,
      target: "node20",
      rollupOptions: {
        input: Object.fromEntries(tests.map((f) => [f.replace(/\.mjs$/, ""), join(here, f)])),
        external: [/^node:/],
        output: { format: "es", entryFileNames: "[name].mjs" },
      },
    },
  });
  const r = spawnSync(process.execPath, ["--test", ...tests.map((f) => join(out, f))], { stdio: "inherit" });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
