// Loads the extension's TextMate grammar into vscode-textmate, the engine
// VS Code itself uses, with the Oniguruma regular expressions VS Code uses.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import oniguruma from "vscode-oniguruma";
import textmate from "vscode-textmate";

const require = createRequire(import.meta.url);

export const EXTENSION = join(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO = join(EXTENSION, "..", "..");
export const manifest = JSON.parse(readFileSync(join(EXTENSION, "package.json"), "utf8"));

const contribution = manifest.contributes.grammars[0];
export const GRAMMAR_PATH = join(EXTENSION, contribution.path);

let loaded = null;

export function loadGrammar() {
  loaded ??= (async () => {
    const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
        createOnigString: (text) => new oniguruma.OnigString(text),
      }),
      loadGrammar: async (scopeName) =>
        scopeName === contribution.scopeName
          ? textmate.parseRawGrammar(readFileSync(GRAMMAR_PATH, "utf8"), GRAMMAR_PATH)
          : null,
    });
    return registry.loadGrammar(contribution.scopeName);
  })();
  return loaded;
}

// Returns, for each line of `text`, its tokens as {text, scopes}.
export async function tokenize(text) {
  const grammar = await loadGrammar();
  let state = textmate.INITIAL;
  return text.split("\n").map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    return result.tokens.map((token) => ({
      text: line.slice(token.startIndex, token.endIndex),
      scopes: token.scopes,
    }));
  });
}
