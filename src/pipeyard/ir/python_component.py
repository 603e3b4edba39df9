"""Recognise KFP Python components in a task's resolved command line.

A lightweight component (``@dsl.component``) compiles to::

    sh -c "<bootstrap: pip install [packages] and kfp> && \\"$0\\" \\"$@\\"" \\
       sh -ec "<write $0 to ephemeral_component.py; python3 -m kfp.dsl.executor_main ...>" \\
       "<module source>" --executor_input ... --function_to_execute ...

and a containerized one (``@dsl.component(target_image=...)``) to
``python3 -m kfp.dsl.executor_main --executor_input ... --function_to_execute ...``.

Recognising them lets a launcher skip the bootstrap - which would install, upgrade or
downgrade ``kfp`` in the user's environment - run the module with the host's ``kfp`` and
put ``packages_to_install`` into a cached environment instead.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_EXECUTOR_MODULES = ("kfp.dsl.executor_main", "kfp.components.executor_main")
_PIP_INSTALL = re.compile(r"\bpip\s+install\b")
# Shell operators that end one pip command in the bootstrap.
_COMMAND_ENDS = frozenset({"&&", "||", ";", "(", ")", "|", "&"})
# pip options that take a value; everything else starting with "-" is a flag.
_VALUED_OPTIONS = frozenset({"--index-url", "-i", "--extra-index-url", "--trusted-host"})



@dataclass(frozen=True)
class PythonProgram:
    """A KFP Python component, recognised so a launcher can run it without KFP's
    ``pip install kfp`` bootstrap and, where it can, without paying the import of
    ``kfp`` per task.

    ``source`` is the component module's source for lightweight components (the
    executor writes it to a file and imports it); ``None`` for containerized
    Python components, whose module is importable from ``module_dirs``.
    ``executor_args`` are the arguments after ``python -m kfp.dsl.executor_main``
    (``--executor_input ... --function_to_execute ...``), placeholders resolved.
    """

    executor_args: tuple[str, ...]
    source: str | None = None
    packages: tuple[str, ...] = ()
    index_urls: tuple[str, ...] = ()
    module_dirs: tuple[str, ...] = ()


def detect_python_program(command: Sequence[str], args: Sequence[str]) -> PythonProgram | None:
    """The Python program behind ``command`` + ``args``, or None if this is not a KFP
    Python component (any other container is run as it is)."""
    argv = [*command, *args]
    if _is_executor_main(argv[:3]):
        return PythonProgram(executor_args=tuple(argv[3:]))
    return _lightweight(argv)


def _is_executor_main(head: Sequence[str]) -> bool:
    return (
        len(head) == 3
        and re.fullmatch(r"python(3(\.\d+)?)?", head[0]) is not None
        and head[1] == "-m"
        and head[2] in _EXECUTOR_MODULES
    )


def _lightweight(argv: Sequence[str]) -> PythonProgram | None:
    # sh -c BOOTSTRAP sh -ec SCRIPT SOURCE [executor args...]
    if len(argv) < 6 or argv[0] != "sh" or argv[1] != "-c" or argv[3] != "sh" or argv[4] != "-ec":
        return None
    bootstrap, script = argv[2], argv[5]
    if '"$0" "$@"' not in bootstrap or "ephemeral_component.py" not in script:
        return None
    if not any(m in script for m in _EXECUTOR_MODULES):
        return None
    if len(argv) < 7:
        return None
    packages, index_urls = parse_bootstrap(bootstrap)
    return PythonProgram(
        executor_args=tuple(argv[7:]),
        source=argv[6],
        packages=packages,
        index_urls=index_urls,
    )


# Every task of a component has the same bootstrap, and shlex takes most of a millisecond on it.
@functools.lru_cache(maxsize=64)
def parse_bootstrap(bootstrap: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The user's ``packages_to_install`` and ``pip_index_urls`` from KFP's pip bootstrap.

    The bootstrap has one ``pip install`` for kfp itself (``'kfp==X' '--no-deps' ...``,
    which we drop: the host's kfp is used) and, when the component asks for packages,
    another for them; its position relative to the kfp line differs between KFP versions.
    Index URLs come back in KFP's order: the ``--index-url`` first, then the extra ones.
    """
    packages: list[str] = []
    index_urls: list[str] = []
    for tokens in _pip_commands(bootstrap):
        reqs, urls = _split_pip_args(tokens)
        for url in urls:
            if url not in index_urls:
                index_urls.append(url)
        if _is_kfp_pin(tokens, reqs):
            continue
        packages.extend(r for r in reqs if r not in packages)
    return tuple(packages), tuple(index_urls)


def _pip_commands(bootstrap: str) -> list[list[str]]:
    """The argument tokens of every ``pip install`` command in the bootstrap."""
    commands: list[list[str]] = []
    for match in _PIP_INSTALL.finditer(bootstrap):
        lexer = shlex.shlex(bootstrap[match.end() :], posix=True, punctuation_chars="();<>|&")
        lexer.whitespace_split = True
        tokens: list[str] = []
        try:
            for token in lexer:
                if token in _COMMAND_ENDS or token.startswith(("&&", "||")):
                    break
                tokens.append(token)
        except ValueError:
            # Unbalanced quotes after the command's end (not in any KFP bootstrap): keep
            # what was read so far.
            pass
        commands.append(tokens)
    return commands


def _split_pip_args(tokens: Sequence[str]) -> tuple[list[str], list[str]]:
    reqs: list[str] = []
    urls: list[str] = []
    it = iter(tokens)
    for token in it:
        if token in _VALUED_OPTIONS:
            value = next(it, "")
            if token != "--trusted-host" and value:
                # --index-url comes first in KFP's bootstrap, so order is preserved.
                urls.append(value)
        elif token.startswith(("--index-url=", "--extra-index-url=")):
            urls.append(token.split("=", 1)[1])
        elif token.startswith(("-", "$")):
            # Flags, and shell expansions that are not requirements.
            continue
        else:
            reqs.append(token)
    return reqs, urls


def _is_kfp_pin(tokens: Sequence[str], reqs: Sequence[str]) -> bool:
    return "--no-deps" in tokens and any(re.match(r"kfp(\[[^\]]*\])?\s*==", r) for r in reqs)


def component_programs(deployment: Mapping[str, Any]) -> list[PythonProgram]:
    """The lightweight Python components among a ``deploymentSpec``'s executors, with
    their ``packages_to_install``, so that a launcher can prepare their imports (in the
    interpreter each will run on) before the run's first task."""
    programs: list[PythonProgram] = []
    for executor in (deployment.get("executors") or {}).values():
        container = executor.get("container") if isinstance(executor, Mapping) else None
        if not isinstance(container, Mapping):
            continue
        program = detect_python_program(list(container.get("command") or []), list(container.get("args") or []))
        if program is not None and program.source is not None:
            programs.append(program)
    return programs
