// Checks of the TextMate grammar that the scope assertions in editors/cases
// cannot make: its keywords agree with parc's Lark grammar, and parc's own
// specs highlight without an error mark.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { GRAMMAR_PATH, REPO, tokenize } from "./textmate.mjs";

const KEYWORD_SCOPE = "keyword.other.par";
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

// The keywords of the Lark grammar are its quoted literals spelled like a
// name: Lark's lexer takes them out of NAME. The Python tests check that this
// reading gives the same set as Lark itself.
function larkKeywords() {
  const grammar = readFileSync(join(REPO, "src", "parc", "grammar", "par.lark"), "utf8");
  const code = grammar.replace(/\/\/.*$/gm, "");
  const literals = [...code.matchAll(/"((?:[^"\\\n]|\\.)*)"/g)].map((match) => match[1]);
  return new Set(literals.filter((literal) => NAME.test(literal)));
}

// Every word that appears anywhere in the grammar file, so a keyword added to
// the grammar alone is among the words tried.
function grammarWords() {
  const text = readFileSync(GRAMMAR_PATH, "utf8");
  return new Set(text.match(/[A-Za-z_][A-Za-z0-9_-]*/g));
}

async function isKeyword(word) {
  const [topLevel, , inBody] = await tokenize(`${word}\ntrack t {\n    ${word}\n}`);
  const scoped = (tokens) =>
    tokens.some((token) => token.text === word && token.scopes.includes(KEYWORD_SCOPE));
  return scoped(topLevel) && scoped(inBody);
}

test("keywords agree with the Lark grammar", async () => {
  const keywords = larkKeywords();
  assert.ok(keywords.size >= 10, `too few keywords read from par.lark: ${[...keywords]}`);

  const candidates = new Set([...keywords, ...grammarWords()]);
  const highlighted = new Set();
  for (const word of candidates) {
    if (await isKeyword(word)) highlighted.add(word);
  }

  assert.deepEqual([...highlighted].sort(), [...keywords].sort());
});

test("keyword prefixes of names are not keywords", async () => {
  for (const keyword of larkKeywords()) {
    for (const name of [`${keyword}-x`, `x-${keyword}`, `${keyword}_x`, `${keyword}2`]) {
      const [tokens] = await tokenize(`after ${name}`);
      const scopes = tokens.filter((token) => token.text === name).map((token) => token.scopes);
      assert.deepEqual(scopes, [["source.par", "entity.name.function.par"]], name);
    }
  }
});

function parFiles(directory) {
  return readdirSync(directory).flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return parFiles(path);
    return entry.endsWith(".par") ? [path] : [];
  });
}

test("parc's own specs and the example have no invalid scopes", async () => {
  const specs = [...parFiles(join(REPO, "specs")), join(REPO, "editors", "example.par")];
  assert.ok(specs.length >= 2, `no specs found under ${REPO}/specs`);

  for (const spec of specs) {
    const lines = await tokenize(readFileSync(spec, "utf8"));
    const invalid = lines.flatMap((tokens, index) =>
      tokens
        .filter((token) => token.scopes.some((scope) => scope.startsWith("invalid.")))
        .map((token) => `${spec}:${index + 1}: ${JSON.stringify(token.text)}`),
    );
    assert.deepEqual(invalid, []);
  }
});
