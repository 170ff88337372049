"""The reading commands: ``derive``, ``errata``, ``models`` and ``docs``. Each takes the parsed options and
returns ``(text, exit status)``; exit status 1 when a re-run check fails."""

from __future__ import annotations

import socket

from .._errors import SymcnnError
from ._resolve import default_input
from ._values import one_line

__all__ = ["cmd_derive", "cmd_errata", "cmd_models", "cmd_docs", "LISTING_SIZE"]

#: the spatial size ``symcnn models`` substitutes (the size the model was published for)
LISTING_SIZE = {"unet": 572, "dcgan_discriminator": 64}


def cmd_derive(args) -> tuple[str, int]:
    from .. import derive

    names = derive.names()
    if args.list:
        return "\n".join(names), 0
    if args.name:
        if args.name not in names:
            raise SymcnnError(f"unknown derivation {args.name!r}; derivations: {', '.join(names)}")
        d = getattr(derive, args.name)().run()
        text = d._repr_latex_() if args.latex else d.to_markdown()
        return text + f"\n\nverified: {d.verified} ({d.seconds:.2f} s)", 0 if d.verified else 1
    rows = ["derivation                 verified  cases       seconds"]
    ok = True
    for f in derive.DERIVATIONS:
        d = f().run()
        ok &= d.verified
        rows.append(f"{d.name:26s} {str(d.verified):9s} {d.check.cases:<11d} {d.seconds:.2f}")
    rows.append(f"all verified: {ok}")
    return "\n".join(rows), 0 if ok else 1


def cmd_errata(args) -> tuple[str, int]:
    from ..errata import _show, errata

    items = errata()
    if args.name:
        by = {e.name: e for e in items}
        if args.name not in by:
            raise SymcnnError(f"unknown erratum {args.name!r}; errata: {', '.join(by)}")
        e = by[args.name]
        return e.to_markdown() + f"\n\nverified: {e.verified}", 0 if e.verified else 1
    out = []
    for e in items:
        out += [f"{e.name}: {e.title}", f"  claimed: {_show(e.claimed)}", f"  correct: {_show(e.correct)}",
                f"  counterexample: {e.counterexample} (claimed {e.claimed_value}, correct {e.correct_value})",
                f"  agrees when: {e.agrees_when}", f"  verified: {e.verified} ({e.cases} cases)", ""]
    ok = all(e.verified for e in items)
    out.append(f"{len(items)} errata, all verified: {ok}")
    return "\n".join(out), 0 if ok else 1


def cmd_models(args) -> tuple[str, int]:
    from .. import models
    from .._analysis import analyze
    from ..spec import examples, load_spec

    rows = []
    for name in models.names():
        if args.no_counts:
            rows.append(name)
            continue
        shape = default_input(name)
        size = LISTING_SIZE.get(name, 224)
        numeric = tuple(v if isinstance(v, int) else size for v in shape)
        a = analyze(models.get(name), numeric)
        rows.append(f"{name:22s} input {'x'.join(map(str, numeric)):12s} params {int(a.params):>13,d}  "
                    f"MACs {int(a.macs):>16,d}")
    rows.append("")
    rows.append("example specs (symcnn summary NAME):")
    for name in examples():
        spec = load_spec(name)
        rows.append(f"  {name:20s} {spec.description}")
    return "\n".join(rows), 0


def _check_address(host: str, port: int) -> None:
    if not 0 <= port <= 65535:
        raise SymcnnError(f"docs: `--port`={port} must be between 0 and 65535")
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as e:  # socket.gaierror is an OSError
        raise SymcnnError(f"docs: `--host`={host!r} is not an address this machine can serve on ({one_line(e)})") \
            from None


def cmd_docs(args, cli) -> tuple[str, int]:
    """``cli`` runs the command line (``argv -> exit status``): the site's CLI page shows what it prints."""
    try:
        from .. import docsgen
    except ImportError as e:
        raise SymcnnError(f"the docs generator symcnn.docsgen is not available ({one_line(e)})") from None
    fn = getattr(docsgen, args.action, None)
    if fn is None:
        raise SymcnnError(f"symcnn.docsgen.{args.action} is not available in this installation")
    _check_address(args.host, args.port)
    try:
        if args.action == "build":
            result = fn(site_dir=args.site_dir, strict=True, force=args.force, cli=cli)
            return (f"site built in {args.site_dir}" + ("" if result is None else f": {result}")), 0
        fn(host=args.host, port=args.port, cli=cli)
    except OSError as e:  # an unwritable site folder, a port in use
        raise SymcnnError(f"docs {args.action}: {one_line(e)}") from None
    return "", 0
