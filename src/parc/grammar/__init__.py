"""The `.par` grammar and the step from parse trees to syntax nodes."""

from parc.grammar.parse import load_parser, parse
from parc.grammar.syntax import KEYWORDS, Document

__all__ = ["KEYWORDS", "Document", "load_parser", "parse"]
