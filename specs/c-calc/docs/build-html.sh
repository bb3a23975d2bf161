#!/bin/sh
# Turn a small Markdown page into HTML: headings, code blocks and paragraphs.
# Usage: build-html.sh INPUT.md OUTPUT.html
set -eu
input=$1
output=$2
{
    printf '<!doctype html>\n<meta charset="utf-8">\n'
    awk '
        /^    / { if (!code) { print "<pre>"; code = 1 } sub(/^    /, ""); print; next }
        code { print "</pre>"; code = 0 }
        /^## / { sub(/^## /, ""); print "<h2>" $0 "</h2>"; next }
        /^# /  { sub(/^# /, "");  print "<h1>" $0 "</h1>"; next }
        /^$/   { print "<p>"; next }
        { gsub(/`[^`]*`/, "<code>&</code>"); gsub(/<code>`/, "<code>"); gsub(/`<\/code>/, "</code>"); print }
        END { if (code) print "</pre>" }
    ' "$input"
} > "$output"
