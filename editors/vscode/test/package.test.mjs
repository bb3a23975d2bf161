// Packages the extension with vsce, the packaging tool of the VS Code
// Marketplace, and checks what the .vsix file holds.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { EXTENSION, manifest } from "./textmate.mjs";

test("vsce packages the extension", () => {
  const directory = mkdtempSync(join(tmpdir(), "par-vsix-"));
  try {
    const vsix = join(directory, "par.vsix");
    execFileSync("npm", ["run", "--silent", "package", "--", "--out", vsix], {
      cwd: EXTENSION,
      stdio: ["ignore", "pipe", "pipe"],
    });

    const entries = execFileSync("unzip", ["-Z1", vsix], { encoding: "utf8" }).split("\n");
    for (const file of [
      "extension/package.json",
      "extension/language-configuration.json",
      "extension/syntaxes/par.tmLanguage.json",
      "extension/readme.md",
      "extension.vsixmanifest",
    ]) {
      assert.ok(entries.includes(file), `${file} missing from ${entries}`);
    }
    const unwanted = entries.filter((entry) => /\/(node_modules|test)\/|package-lock/.test(entry));
    assert.deepEqual(unwanted, []);

    const packaged = JSON.parse(
      execFileSync("unzip", ["-p", vsix, "extension/package.json"], { encoding: "utf8" }),
    );
    assert.equal(packaged.version, manifest.version);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
