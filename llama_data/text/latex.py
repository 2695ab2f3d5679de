"""LaTeX source -> the text LLaMA trained on (§2.1: "We removed everything before the first
section, as well as the bibliography. We also removed the comments from the .tex files, and
inline-expanded definitions and macros written by users"), the mathematics kept as LaTeX.

RedPajama v1's reproduction (togethercomputer/RedPajama-Data, branch ``rp_v1`` at commit
45b37c2a1d1e495b0f48549ef3ce03ff029f7881, ``data_prep/arxiv/arxiv_cleaner.py``, unchanged since
commit f54b86f259f7ed40069fc18c3d3ac3af7e5cc3ba) differs where this module is deliberate:

- its section pattern lacks the ``|`` between its ``\\paragraph`` and ``\\subparagraph``
  alternatives, so a paper whose first heading is either is emptied; here every sectioning command
  (``\\part`` to ``\\subparagraph``, starred too) starts the text;
- it expands only argument-less ``\\newcommand``/``\\def`` macros written on one line, by regular
  expression; here every form (``\\newcommand``, ``\\renewcommand``, ``\\providecommand``, starred,
  ``[n]`` arguments, a ``[default]`` optional argument, ``\\def\\name#1#2``) is expanded in document
  order, as TeX would, with bounds on the work;
- it also cuts at ``\\appendix``; here appendices are kept unless ``drop_appendix``;
- its in-line comment pattern ``[^\\\\]%.+$`` eats the character before the ``%`` and keeps
  ``\\\\%`` (a line break, then a comment); here a ``%`` after an even number of backslashes
  starts a comment, and ``verbatim``/``lstlisting`` content and ``\\verb`` are left alone.
"""

from __future__ import annotations

import dataclasses
import re

SECTIONING = ("part", "chapter", "section", "subsection", "subsubsection", "paragraph",
              "subparagraph")
SECTION = re.compile(r"\\(?:" + "|".join(SECTIONING) + r")(?![A-Za-z@])\*?")
BIBLIOGRAPHY = re.compile(r"\\begin\s*\{(?:thebibliography|references)\}"
                          r"|\\(?:bibliography|printbibliography)(?![A-Za-z@])")
BIBLIOGRAPHY_STYLE = re.compile(r"\\bibliographystyle\s*\{[^{}]*\}")
APPENDIX = re.compile(r"\\appendix(?![A-Za-z@])|\\begin\s*\{(?:appendix|appendices)\}")
END_DOCUMENT = re.compile(r"\\end\s*\{document\}")

VERBATIM = ("verbatim", "verbatim*", "Verbatim", "lstlisting", "minted")
_VERBATIM_BEGIN = re.compile(r"\\begin\s*\{(" + "|".join(map(re.escape, VERBATIM)) + r")\}")
# A line's tokens that may hide a "%": \verb|..|, an escaped character (\% or \\), a comment.
_COMMENT_TOKENS = re.compile(r"\\verb\*?([^A-Za-z\s*]).*?\1|\\.|%")


@dataclasses.dataclass(frozen=True)
class ExpansionLimits:
    """Bounds on macro expansion, so that a recursive macro costs at most this much."""

    max_expansions: int = 100_000  # per document
    max_depth: int = 64  # expansions nested inside expansions
    max_growth: int = 16  # output at most this many times the input (plus 1 MiB)


@dataclasses.dataclass(frozen=True)
class ExpansionStats:
    """What macro expansion did: uses expanded, uses left as written (a delimited ``\\def``, a
    use missing its arguments, one past a cap), and the cap that stopped it, if one did
    (``"max_depth"``, ``"max_expansions"``, ``"max_size"``)."""

    expanded: int = 0
    unexpanded: int = 0
    stopped_reason: str | None = None


@dataclasses.dataclass(frozen=True)
class CleanResult:
    text: str
    stats: ExpansionStats


def comment_start(line: str) -> int | None:
    """Where a line's comment starts: its first ``%`` not escaped (after an even number of
    backslashes) and not inside ``\\verb``; None when it has none."""
    if "%" not in line:
        return None
    for m in _COMMENT_TOKENS.finditer(line):
        if m.group() == "%":
            return m.start()
    return None


def remove_comments(tex: str) -> str:
    """``tex`` without its ``%`` comments; a line that held only a comment goes entirely, the
    content of verbatim environments stays as written."""
    out: list[str] = []
    verbatim_end: str | None = None
    for line in tex.splitlines(keepends=True):
        whole = True
        if verbatim_end is not None:
            end = line.find(verbatim_end)
            if end < 0:
                out.append(line)
                continue
            end += len(verbatim_end)
            out.append(line[:end])
            line, verbatim_end, whole = line[end:], None, False
        cut = comment_start(line)
        if cut is not None:
            code = line[:cut]
            if whole and not code.strip():
                continue
            line = code + ("\n" if line.endswith("\n") else "")
        begin = _VERBATIM_BEGIN.search(line)
        if begin and f"\\end{{{begin.group(1)}}}" not in line[begin.end():]:
            verbatim_end = f"\\end{{{begin.group(1)}}}"
        out.append(line)
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Macro expansion: a small model of TeX's input stack. The text is read left to right; a macro's
# replacement is pushed as a new input level and read next (so it may use arguments that follow
# it), definitions take effect where they stand and are removed.

DEFINERS = ("newcommand", "renewcommand", "providecommand", "def", "gdef", "edef", "xdef")
_DEFINITION_NAME = re.compile(
    r"\\(?:(?:renew|provide|new)command\*?\s*\{?\s*|[gex]?def\s*)(\\(?:[A-Za-z@]+|[^A-Za-z@\s]))")
# Commands the cleaning itself looks for: a paper's redefinition of one (``\renewcommand\section
# {\@startsection...}``) is removed but not applied, so that the structure stays visible.
PROTECTED = frozenset({*(f"\\{s}" for s in SECTIONING), "\\appendix", "\\bibliography",
                       "\\printbibliography", "\\begin", "\\end", "\\input", "\\include"})
_CONTROL_WORD = re.compile(r"[A-Za-z@]+")
_PARAMETER = re.compile(r"#(#|[1-9])")
_UNDELIMITED = re.compile(r"(?:#[1-9])*")


@dataclasses.dataclass(frozen=True)
class Macro:
    """A user macro: ``nargs`` arguments, the first optional when ``default`` is not None;
    ``body`` None for a ``\\def`` with delimited parameters, which is left unexpanded."""

    nargs: int
    default: str | None
    body: str | None


class _Input:
    """One level of TeX's input stack: a text and how far it has been read."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str, pos: int = 0):
        self.text = text
        self.pos = pos


def _skip_space(level: _Input) -> None:
    text, pos = level.text, level.pos
    while pos < len(text) and text[pos].isspace():
        pos += 1
    level.pos = pos


def _group(text: str, pos: int) -> int | None:
    """The end (after the closing brace) of the brace group opening at ``pos``, or None."""
    depth = 0
    i = pos
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _token(text: str, pos: int) -> int | None:
    """The end of one TeX argument starting at ``pos``: a brace group, a control sequence or a
    character; None when there is none (end of text, an unbalanced group, a closing brace)."""
    if pos >= len(text) or text[pos] == "}":
        return None
    if text[pos] == "{":
        return _group(text, pos)
    if text[pos] == "\\":
        word = _CONTROL_WORD.match(text, pos + 1)
        return word.end() if word else min(pos + 2, len(text))
    return pos + 1


def _unbrace(arg: str) -> str:
    return arg[1:-1] if arg.startswith("{") and _group(arg, 0) == len(arg) else arg


def _optional(text: str, pos: int) -> int | None:
    """The end of a ``[...]`` opening at ``pos`` (its ``]`` outside braces), or None."""
    i = pos + 1
    while i < len(text):
        c = text[i]
        if c == "]":
            return i + 1
        if c == "{":
            end = _group(text, i)
            if end is None:
                return None
            i = end
            continue
        i += 2 if c == "\\" else 1
    return None


def _parse_definition(text: str, pos: int, definer: str) -> tuple[str, Macro, int] | None:
    """The macro defined by the definition whose command ends at ``pos`` (name, macro, end of
    the definition), or None when it is not well formed (then it is left as written)."""
    n = len(text)
    if definer.endswith("command"):
        if pos < n and text[pos] == "*":
            pos += 1
        while pos < n and text[pos].isspace():
            pos += 1
        end = _token(text, pos)
        if end is None:
            return None
        name = _unbrace(text[pos:end]).strip()
        if not _is_control_sequence(name):
            return None
        pos, nargs, default = end, 0, None
        for _ in range(2):
            while pos < n and text[pos].isspace():
                pos += 1
            if pos < n and text[pos] == "[":
                close = _optional(text, pos)
                if close is None:
                    return None
                value = text[pos + 1:close - 1]
                if nargs == 0 and default is None and value.strip().isdigit():
                    nargs = int(value)
                    if not 0 <= nargs <= 9:
                        return None
                elif nargs > 0 and default is None:
                    default = value
                else:
                    return None
                pos = close
    else:
        while pos < n and text[pos].isspace():
            pos += 1
        end = _token(text, pos)
        if end is None or not _is_control_sequence(text[pos:end]):
            return None
        name, pos = text[pos:end], end
        brace = text.find("{", pos)
        if brace < 0:
            return None
        params = text[pos:brace].strip()
        if not _UNDELIMITED.fullmatch(params):
            body_end = _group(text, brace)
            return None if body_end is None else (name, Macro(0, None, None), body_end)
        nargs = len(params) // 2
        if params != "".join(f"#{i}" for i in range(1, nargs + 1)):
            return None
        default, pos = None, brace
    while pos < n and text[pos].isspace():
        pos += 1
    end = _token(text, pos)
    if end is None:
        return None
    return name, Macro(nargs, default, _unbrace(text[pos:end])), end


def _is_control_sequence(s: str) -> bool:
    return len(s) >= 2 and s[0] == "\\" and (len(s) == 2 or _CONTROL_WORD.fullmatch(s, 1) is not None)


def _substitute(body: str, args: list[str]) -> str:
    """``body`` with ``#k`` replaced by the k-th argument and ``##`` by ``#``; a space is put
    between a control word and an argument starting with a letter, which would glue to it."""
    def arg(m: re.Match[str]) -> str:
        if m.group(1) == "#":
            return "#"
        k = int(m.group(1))
        if k > len(args):
            return m.group()
        value = args[k - 1]
        if value[:1].isalpha() and re.search(r"\\[A-Za-z@]+$", body[:m.start()]):
            return " " + value
        return value
    return _PARAMETER.sub(arg, body) if "#" in body else body


class _Expander:
    def __init__(self, text: str, limits: ExpansionLimits):
        self.limits = limits
        self.stack = [_Input(text)]
        self.macros: dict[str, Macro] = {}
        self.out: list[str] = []
        self.out_size = 0
        self.max_size = limits.max_growth * len(text) + (1 << 20)
        self.expanded = 0
        self.unexpanded = 0
        self.stopped: str | None = None
        names = {m.group(1) for m in _DEFINITION_NAME.finditer(text)}
        # Only control sequences that can matter are looked at: definers, and every name that
        # the text ever defines; "\\" first, so that "\\foo" is a line break, then "foo".
        words = sorted((re.escape(n[1:]) for n in names if len(n) > 2 or n[1].isalpha()),
                       key=len, reverse=True)
        symbols = sorted(re.escape(n[1:]) for n in names if len(n) == 2 and not n[1].isalpha())
        self.pattern = re.compile(
            r"\\\\|\\(" + "|".join(DEFINERS) + r")(?![A-Za-z@])"
            r"|\\((?:" + ("|".join(words) or "(?!)") + r")(?![A-Za-z@])|"
            + ("|".join(symbols) or "(?!)") + ")")

    def emit(self, s: str) -> None:
        self.out.append(s)
        self.out_size += len(s)

    def current(self) -> _Input | None:
        """The level being read, after dropping those read to their end."""
        while len(self.stack) > 1 and self.stack[-1].pos >= len(self.stack[-1].text):
            self.stack.pop()
        top = self.stack[-1]
        return top if top.pos < len(top.text) else None

    def run(self) -> tuple[str, ExpansionStats]:
        while (level := self.current()) is not None:
            if self.stopped in ("max_expansions", "max_size"):
                self.emit(level.text[level.pos:])
                level.pos = len(level.text)
                continue
            m = self.pattern.search(level.text, level.pos)
            if m is None:
                self.emit(level.text[level.pos:])
                level.pos = len(level.text)
                continue
            self.emit(level.text[level.pos:m.start()])
            level.pos = m.end()
            if m.group(1):
                self.define(level, m)
            elif m.group(2) is not None:
                self.use(level, m)
            else:
                self.emit(m.group())
        return "".join(self.out), ExpansionStats(self.expanded, self.unexpanded, self.stopped)

    def define(self, level: _Input, m: re.Match[str]) -> None:
        found = _parse_definition(level.text, m.end(), m.group(1))
        if found is None:
            self.emit(m.group())
            return
        name, macro, end = found
        if macro.body is None:  # delimited parameters: left as written, its uses counted
            self.emit(level.text[m.start():end])
        if name not in PROTECTED and not (m.group(1) == "providecommand"
                                          and name in self.macros):
            self.macros[name] = macro
        level.pos = end

    def use(self, level: _Input, m: re.Match[str]) -> None:
        macro = self.macros.get(m.group())
        if macro is None:  # defined later in the text, or by a definition left unexpanded
            self.emit(m.group())
            return
        if macro.body is not None and len(self.stack) > self.limits.max_depth:
            # Recursive: never expanded again, so that \def\a{\a\a} costs max_depth, not 2**n.
            self.macros[m.group()] = macro = dataclasses.replace(macro, body=None)
            self.stopped = self.stopped or "max_depth"
        if macro.body is None:
            self.unexpanded += 1
            self.emit(m.group())
            return
        args = self.arguments(macro)
        if args is None:
            self.unexpanded += 1
            self.emit(m.group())
            return
        self.expanded += 1
        if self.expanded >= self.limits.max_expansions:
            self.stopped = "max_expansions"
        elif self.out_size > self.max_size:
            self.stopped = "max_size"
        self.stack.append(_Input(_substitute(macro.body, args)))

    def arguments(self, macro: Macro) -> list[str] | None:
        """The use's arguments, read from the input levels (an argument never spans two);
        None, with nothing consumed, when they are not all there."""
        saved = [(lv, lv.pos) for lv in self.stack]
        args: list[str] = []
        for i in range(macro.nargs):
            level = self.current()
            if level is None:
                break
            if i == 0 and macro.default is not None:
                pos = level.pos
                _skip_space(level)
                if level.text.startswith("[", level.pos):
                    end = _optional(level.text, level.pos)
                    if end is not None:
                        args.append(level.text[level.pos + 1:end - 1])
                        level.pos = end
                        continue
                level.pos = pos
                args.append(macro.default)
                continue
            _skip_space(level)
            level = self.current()
            if level is None:
                break
            end = _token(level.text, level.pos)
            if end is None:
                break
            args.append(_unbrace(level.text[level.pos:end]))
            level.pos = end
        if len(args) < macro.nargs:
            self.stack[:] = [lv for lv, _ in saved]
            for lv, pos in saved:
                lv.pos = pos
            return None
        return args


def expand_macros(tex: str, limits: ExpansionLimits = ExpansionLimits()) -> tuple[str,
                                                                                 ExpansionStats]:
    """``tex`` with its user macros' definitions removed and every use expanded, in document
    order (a definition applies from where it stands; ``\\renewcommand`` replaces,
    ``\\providecommand`` does not). A macro used past a cap is left as written."""
    if not _DEFINITION_NAME.search(tex):
        return tex, ExpansionStats()
    return _Expander(tex, limits).run()


def clean_paper(tex: str, drop_appendix: bool = False,
                limits: ExpansionLimits = ExpansionLimits()) -> CleanResult:
    """A paper's LaTeX as LLaMA kept it: no comments, user macros expanded, from the first
    sectioning command up to the bibliography (and, with ``drop_appendix``, up to
    ``\\appendix``), nothing after ``\\end{document}``. The text is empty when no sectioning
    command is found (as in RedPajama), for a step to drop."""
    tex = remove_comments(tex)
    end = END_DOCUMENT.search(tex)
    if end:
        tex = tex[:end.start()]
    tex, stats = expand_macros(tex, limits)
    start = SECTION.search(tex)
    if start is None:
        return CleanResult("", stats)
    tex = tex[start.start():]
    cut = BIBLIOGRAPHY.search(tex)
    if cut:
        tex = tex[:cut.start()]
    if drop_appendix and (cut := APPENDIX.search(tex)):
        tex = tex[:cut.start()]
    tex = BIBLIOGRAPHY_STYLE.sub("", tex)
    return CleanResult(re.sub(r"\n[ \t]*(?:\n[ \t]*)+\n", "\n\n", tex).strip() + "\n", stats)
