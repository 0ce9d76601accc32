"""What `peacegraph build` need not do again, because it did it for the same inputs.

One small JSON record beside the output folder (`.dist-build-cache.json` next to `dist/`; never
inside it, so the published files, SHA256SUMS, VoID and /download/ do not know of it) holds two
facts, each under the sha256 of everything it depends on:

- ``shapes``: the shapes folder passed the well-formedness check (parsing every SHACL-SPARQL
  query is most of the cost of loading the shapes). Key: every file of the shapes folder and
  the code.
- ``build``: the last build that succeeded. Key: every file of the seeds, ontology, graph and
  shapes folders, the build's settings and the code; value: the sha256 of every file written.
  When the key matches and the output folder holds exactly those files with those checksums,
  the build has nothing to do.

"The code" is every `.py` and `.rq` file of the peacegraph package (not its server) plus the
versions of the libraries whose output lands in the dumps, so an upgrade or an edit of the code
invalidates the record. A record that cannot be read, has another format or was written for
other inputs is ignored, never trusted; it is replaced (atomically) after the next build that
succeeds, and a build that fails leaves it as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from peacegraph.leftovers import remove_stale_files

FORMAT = 1
# The libraries whose behaviour decides the bytes of a build.
LIBRARIES = ("rdflib", "pyoxigraph", "reasonable", "owlrl", "pyshacl", "pyshacl-turbo")
CODE_SUFFIXES = (".py", ".rq")
CODE_SKIPPED = ("server", "_data")
_BUFFER = 1 << 20


def cache_file(out) -> Path:
    """Named apart from the `.dist.tmp-*` and `.dist.old-*` folders of an export, which a build
    removes when no process holds them."""
    out = Path(out).absolute()
    return out.parent / f".{out.name}-build-cache.json"


def _hash_files(h, root: Path) -> None:
    """Every file under root, hidden ones included (a superset of what the loaders read, so a
    change the build could see always changes the key)."""
    root = Path(root)
    h.update(f"folder {root.absolute()}\0".encode())
    if not root.is_dir():
        h.update(b"missing\0")
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(f"{path.relative_to(root).as_posix()}\0".encode())
        with open(path, "rb") as f:
            while chunk := f.read(_BUFFER):
                h.update(chunk)
        h.update(b"\0")


@functools.cache
def code_fingerprint() -> str:
    """Computed once a process: the code that runs is the code that was imported, whatever
    becomes of the files later (a `build --watch` keeps running its own)."""
    import peacegraph

    h = hashlib.sha256(f"python {sys.version}\0".encode())
    for name in LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        h.update(f"{name} {version}\0".encode())
    package = Path(peacegraph.__file__).parent
    for path in sorted(package.rglob("*")):
        inside = path.relative_to(package)
        # the server and the shipped data (in a wheel, both under the package) are no code of
        # a build; the data folders are hashed as its inputs
        if inside.parts[0] in CODE_SKIPPED or path.suffix not in CODE_SUFFIXES or not path.is_file():
            continue
        h.update(f"{inside.as_posix()}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def shapes_key(shapes, code: str) -> str:
    h = hashlib.sha256(f"shapes {code}\0".encode())
    _hash_files(h, shapes)
    return h.hexdigest()


def build_key(config, code: str) -> str:
    release = config.release
    settings = {"reason": config.reason, "sparql_endpoint": config.sparql_endpoint,
                "csv_bom": config.csv_bom, "download_url": config.download_url,
                "release": None if release is None else [release.version, release.issued],
                "out": str(Path(config.out).absolute())}
    h = hashlib.sha256(f"build {code}\0{json.dumps(settings, sort_keys=True)}\0".encode())
    for folder in (config.seeds, config.ontology, config.graph, config.shapes):
        _hash_files(h, folder)
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_BUFFER):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Reused:
    """What a build that had nothing to do reports: the figures of the build it kept."""
    counts: dict
    spans: int
    files: list


class BuildCache:
    def __init__(self, out):
        self.out = Path(out).absolute()
        self.path = cache_file(self.out)
        self.record = self._read()

    def _read(self) -> dict:
        try:
            with open(self.path, "rb") as f:
                record = json.loads(f.read(1 << 20))
        except (OSError, ValueError):
            return {}
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            return {}
        return record

    @contextlib.contextmanager
    def turn(self):
        """Builds into one parent folder take turns from writing the output folder to recording
        it, so that a record never pairs one build's key with the files of another; yields
        whether the turn was had (without it, nothing may be recorded or kept)."""
        try:
            fd = os.open(self.out.parent, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            fd = None
        try:
            held = False
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    held = True
                except OSError:  # a file system without locks: build, but trust nothing
                    pass
            yield held
        finally:
            if fd is not None:
                os.close(fd)

    def shapes_checked(self, key: str) -> bool:
        return self.record.get("shapes") == key

    def unchanged(self, key: str) -> Reused | None:
        """The last build's figures when it had this key and its files are all still there,
        byte for byte; None otherwise."""
        last = self.record.get("build")
        if not isinstance(last, dict) or last.get("key") != key:
            return None
        sums, order = last.get("files"), last.get("order")
        counts, spans = last.get("counts"), last.get("spans")
        if not (isinstance(sums, dict) and all(isinstance(v, str) for v in sums.values())
                and isinstance(order, list) and all(isinstance(n, str) for n in order)
                and sorted(order) == sorted(sums)
                and isinstance(counts, list) and isinstance(spans, int)
                and all(isinstance(c, list) and len(c) == 2 and isinstance(c[0], str)
                        and isinstance(c[1], int) for c in counts)):
            return None
        with self.turn() as held:
            return self._kept(sums, order, counts, spans) if held else None

    def _kept(self, sums: dict, order: list, counts: list, spans: int) -> Reused | None:
        try:
            present = sorted(os.listdir(self.out))
            if present != sorted(sums) or any(_sha256(self.out / n) != sums[n] for n in present):
                return None
            # The files are what a build now would write: dated now, so a freshness check
            # (peacegraph.freshness) finds them as new as the inputs that were merely saved.
            for name in present:
                os.utime(self.out / name)
        except OSError:
            return None
        return Reused(counts=dict(counts), spans=spans, files=order)

    def _written_sums(self, files: list) -> dict:
        """The sha256 of each file just written: those SHA256SUMS lists are taken from it (the
        export computed them while writing; at a million triples reading the dumps again
        would cost seconds), the others are computed."""
        listed = {}
        try:
            for line in (self.out / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
                digest, _, name = line.partition("  ")
                listed[name] = digest
        except (OSError, UnicodeDecodeError):
            pass
        return {name: listed[name] if name in listed else _sha256(self.out / name) for name in files}

    def save(self, *, shapes: str, build: str, files: list, counts: dict, spans: int) -> None:
        """Record a build that succeeded. A record that cannot be written only costs the next
        build its shortcuts, so an error here is not the build's."""
        try:
            sums = self._written_sums(files)
            record = {"format": FORMAT, "shapes": shapes,
                      "build": {"key": build, "files": sums, "order": list(files),
                                "counts": [[str(g), n] for g, n in counts.items()], "spans": spans}}
            remove_stale_files(self.path.parent, f"{self.path.name}.")
            fd, tmp = tempfile.mkstemp(prefix=f"{self.path.name}.", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(record, f, sort_keys=True)
                os.chmod(tmp, 0o644)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass
