"""Where the data folders are: one resolver for a source checkout (editable install) and a wheel.

In a checkout the folders sit at the repository root, beside src/; a wheel ships them as
package data under peacegraph/_data/<name>.
"""

from __future__ import annotations

from pathlib import Path

DATA_FOLDERS = ("seeds", "ontology", "graph", "shapes")


def package_dir() -> Path:
    return Path(__file__).resolve().parent


def checkout_root() -> Path | None:
    """The repository root when running from a source checkout, else None."""
    root = package_dir().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "src" / "peacegraph").is_dir():
        return root
    return None


def data_dir(name: str) -> Path:
    """The shipped folder `name` (one of DATA_FOLDERS)."""
    if name not in DATA_FOLDERS:
        raise ValueError(f"unknown data folder {name!r}; expected one of {DATA_FOLDERS}")
    root = checkout_root()
    if root is not None and (root / name).is_dir():
        return root / name
    return package_dir() / "_data" / name


def queries_dir() -> Path:
    return package_dir() / "queries"


def default_dist() -> Path:
    """dist/ beside the checkout, or in the working directory for an installed wheel."""
    root = checkout_root()
    return (root if root is not None else Path.cwd()) / "dist"
