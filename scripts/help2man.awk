# Turns one command's --help text (stdin) into man(7) roff, so that the man pages and --help can never drift.
# -v title=T: T is a subsection of a page (qomfs mount in qomfs(1)); without it, the page's SYNOPSIS and DESCRIPTION.
# The help's shape: "usage:" lines (and their indented continuations) up to a blank line; paragraphs; indented
# entries "  TAG   text" (options, commands), whose text may continue on deeper-indented lines.
function esc(s) {
  gsub(/\\/, "\\e", s)
  gsub(/-/, "\\-", s)
  if (s ~ /^[.']/) s = "\\&" s
  return s
}
function indent(s) { match(s, /^ */); return RLENGTH }
# An entry with no text on its tag's line gets an empty body, unless a continuation line gives it one.
function flush() { if (bodyless) print "\\&"; bodyless = 0 }
BEGIN { state = "start" }
{
  line = $0
  sub(/[ \t]+$/, "", line)
  if (state == "start") {
    if (line !~ /^usage: /) next
    if (title == "") print ".SH SYNOPSIS"; else printf ".SH \"%s\"\n", toupper(title)
    print ".nf"
    state = "usage"
  }
  if (state == "usage") {
    if (line == "") {
      print ".fi"
      if (title == "") print ".SH DESCRIPTION"; else print ".PP"
      state = "body"; para = 0
      next
    }
    sub(/^usage: /, "", line); sub(/^ +/, "", line)
    print esc(line)
    next
  }
  if (line == "") { flush(); if (para) print ".PP"; para = 0; item = 0; next }
  n = indent(line)
  if (n == 0) {
    flush()
    if (item) print ".PP"
    print esc(line); para = 1; item = 0
    next
  }
  # An entry's continuation: deeper than its tag, and no tag of its own.
  if (item && n > itemindent) { t = line; sub(/^ +/, "", t); print esc(t); bodyless = 0; next }
  flush()
  t = line; sub(/^ +/, "", t)
  if (match(t, /  +/)) { tag = substr(t, 1, RSTART - 1); text = substr(t, RSTART + RLENGTH) }
  else { tag = t; text = "" }
  print ".TP"
  print "\\fB" esc(tag) "\\fR"
  if (text != "") print esc(text)
  else bodyless = 1
  item = 1; itemindent = n; para = 1
}
END { flush(); if (state == "usage") print ".fi" }
