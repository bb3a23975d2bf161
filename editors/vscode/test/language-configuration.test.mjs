// Checks of the manifest and the language configuration with the regular
// expressions of JavaScript, which VS Code uses for them.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { EXTENSION, GRAMMAR_PATH, manifest } from "./textmate.mjs";

const language = manifest.contributes.languages[0];
const configuration = JSON.parse(readFileSync(join(EXTENSION, language.configuration), "utf8"));
const indentation = configuration.indentationRules;

test("manifest contributes the par language and grammar", () => {
  assert.equal(language.id, "par");
  assert.deepEqual(language.extensions, [".par"]);
  assert.ok(existsSync(join(EXTENSION, language.configuration)));

  const [grammar] = manifest.contributes.grammars;
  assert.equal(grammar.language, "par");
  assert.equal(JSON.parse(readFileSync(GRAMMAR_PATH, "utf8")).scopeName, grammar.scopeName);
});

test("comments and brackets", () => {
  assert.equal(configuration.comments.lineComment, "#");
  assert.deepEqual(configuration.brackets, [["{", "}"]]);
  const pairs = configuration.autoClosingPairs.map((pair) => pair.open + pair.close);
  assert.deepEqual(pairs, ["{}", '""']);
});

test("indent after an opening brace outside strings and comments", () => {
  const increase = new RegExp(indentation.increaseIndentPattern);
  for (const line of ["track core {", "integrate release after a, b {", "track x {  # why"]) {
    assert.ok(increase.test(line), line);
  }
  for (const line of ['    run "echo {"', '    run "a" # {', "# track x {", "track x { }"]) {
    assert.ok(!increase.test(line), line);
  }
});

test("outdent at a closing brace", () => {
  const decrease = new RegExp(indentation.decreaseIndentPattern);
  assert.ok(decrease.test("    }"));
  assert.ok(!decrease.test('    run "}"'));
});

test("a word is a whole name, duration or number", () => {
  const word = new RegExp(configuration.wordPattern, "g");
  const words = 'track run-tests after build_docs { timeout 1.5h retries 3 run "x" }'.match(word);
  assert.deepEqual(words, [
    "track", "run-tests", "after", "build_docs", "timeout", "1.5h", "retries", "3", "run", "x",
  ]);
});

test("folding markers are comments", () => {
  assert.ok(new RegExp(configuration.folding.markers.start).test("# region build steps"));
  assert.ok(new RegExp(configuration.folding.markers.end).test("  # endregion"));
  assert.ok(!new RegExp(configuration.folding.markers.start).test('run "region"'));
});
