"""One set of keywords: the Lark grammar, `KEYWORDS`, the TextMate grammar, the
Vim syntax file and the Pygments lexer must all agree.

Each editor is tested on every word that appears in any of these files, to
see which words it highlights as keywords. So a keyword added to one file
alone is among the words tried.
"""

from __future__ import annotations

import inspect
import json
import re
from functools import cache
from pathlib import Path

from highlighting import EDITORS, REPO, lark_keywords
from pygments.token import Keyword
from vim_dump import dump_syntax

from parc import pygments_lexer
from parc.grammar.syntax import KEYWORDS
from parc.pygments_lexer import ParLexer

TEXTMATE_GRAMMAR = EDITORS / "vscode" / "syntaxes" / "par.tmLanguage.json"
VIM_SYNTAX = EDITORS / "vim" / "syntax" / "par.vim"
LARK_GRAMMAR = REPO / "src" / "parc" / "grammar" / "par.lark"
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@cache
def candidate_words() -> list[str]:
    """Return every word of the grammar, the keyword set and the editor files."""
    texts = [
        LARK_GRAMMAR.read_text(encoding="utf-8"),
        TEXTMATE_GRAMMAR.read_text(encoding="utf-8"),
        VIM_SYNTAX.read_text(encoding="utf-8"),
        inspect.getsource(pygments_lexer),
    ]
    words = {word for text in texts for word in _WORD.findall(text)}
    return sorted(words | KEYWORDS)


def test_lark_grammar_matches_keyword_set() -> None:
    assert lark_keywords() == KEYWORDS


def test_textmate_test_reads_lark_keywords_alike() -> None:
    # The VS Code tests cannot run Python, so they read the keywords from
    # par.lark as its quoted literals spelled like a name, outside `//`
    # comments. That reading must give the same set as Lark itself.
    code = re.sub(r"//.*$", "", LARK_GRAMMAR.read_text(encoding="utf-8"), flags=re.MULTILINE)
    literals = re.findall(r'"((?:[^"\\\n]|\\.)*)"', code)

    assert {literal for literal in literals if _WORD.fullmatch(literal)} == lark_keywords()


def test_textmate_keyword_rules_match() -> None:
    # The VS Code tests check what vscode-textmate highlights. This reads the
    # rules, so plain pytest catches a mismatch too.
    repository = json.loads(TEXTMATE_GRAMMAR.read_text(encoding="utf-8"))["repository"]
    keyword_rule = r"\(\?<!\[[^]]*\]\)\(\?:([a-z|]+)\).*"
    alternatives = re.fullmatch(keyword_rule, repository["keyword"]["match"])
    assert alternatives is not None
    declared: set[str] = set()
    for rule in repository["declaration"]["patterns"]:
        words = re.search(r"\(([a-z|]+)\)", rule["match"])
        assert words is not None
        declared.update(words.group(1).split("|"))

    assert set(alternatives.group(1).split("|")) == KEYWORDS
    assert declared <= KEYWORDS


def test_pygments_keywords_match() -> None:
    highlighted = set()
    lexer = ParLexer()
    for word in candidate_words():
        top_level = next(iter(lexer.get_tokens(f"{word}\n")))
        in_body = list(lexer.get_tokens(f"track t {{\n    {word}\n}}\n"))[6]
        if top_level == (Keyword, word) and in_body == (Keyword, word):
            highlighted.add(word)

    assert highlighted == KEYWORDS


def test_vim_keywords_match(tmp_path: Path) -> None:
    words = candidate_words()
    lines = [*words, "track t {", *(f"    {word}" for word in words), "}"]
    spec = tmp_path / "words.par"
    spec.write_text("\n".join(lines) + "\n", encoding="utf-8")

    dump = dump_syntax(spec)
    body = len(words) + 1
    highlighted = {
        word
        for index, word in enumerate(words)
        if dump.groups[index][0] == "parKeyword" and dump.groups[body + index][4] == "parKeyword"
    }

    assert highlighted == KEYWORDS


def test_candidates_include_editor_words() -> None:
    # A sanity check of the word list: words from each file are in it.
    words = set(candidate_words())

    assert {"LONG_STRING", "scopeName", "iskeyword", "RegexLexer"} <= words
