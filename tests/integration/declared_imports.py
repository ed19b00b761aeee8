"""Run by an installed environment's Python (standard library only): for each distribution named
on the command line, what its modules import against what its metadata declares, and whether
each module imports. Prints JSON:

    {dist: {"undeclared": [dists imported, not declared], "unimported": [declared, not
    imported], "failed": {module: error}}}

Imports are read from the source (every `import`, lazy ones included; not relative ones, nor
those under `if TYPE_CHECKING:`, which only mypy reads); a module
is owned by the distribution whose RECORD lists it, and `ecomdw.<package>` by the ecomdw
distribution that ships that package.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import sys
from importlib import metadata
from pathlib import Path


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(dist: metadata.Distribution) -> set[str]:
    """Requires-Dist names without extras or markers (an `extra == ...` requirement is not one
    the distribution itself needs)."""
    names = set()
    for requirement in dist.requires or []:
        if "extra ==" in requirement:
            continue
        names.add(normalized(re.split(r"[\s;\[<>=!~(]", requirement, maxsplit=1)[0]))
    return names


def modules_of(dist: metadata.Distribution) -> dict[str, Path]:
    """Module name -> file, for the distribution's `.py` files."""
    found = {}
    for file in dist.files or []:
        if file.suffix != ".py":
            continue
        parts = list(file.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = Path(str(file.locate()))
    return found


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(path: Path) -> set[str]:
    """What the module imports when it runs: not what `if TYPE_CHECKING:` imports for mypy."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if _type_checking(node):
            node.body = []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def main(dists: list[str]) -> dict[str, object]:
    providers = metadata.packages_distributions()
    shipped = {name: metadata.distribution(name) for name in dists}
    # `ecomdw.<package>` -> the ecomdw distribution that ships it (they share the namespace).
    owner = {
        module.split(".")[1]: normalized(name)
        for name, dist in shipped.items()
        for module in modules_of(dist)
        if module.count(".") >= 1
    }
    report: dict[str, object] = {}
    for name, dist in shipped.items():
        uses: set[str] = set()
        failed = {}
        for module, path in sorted(modules_of(dist).items()):
            for imported in imported_names(path):
                parts = imported.split(".")
                if parts[0] in sys.stdlib_module_names or parts[0] == "__future__":
                    continue
                if parts[0] == "ecomdw":
                    uses.add(owner.get(parts[1], f"ecomdw.{parts[1]}") if len(parts) > 1 else "")
                    continue
                uses |= {normalized(p) for p in providers.get(parts[0], [f"?{parts[0]}"])}
            if module.endswith("__main__"):
                continue  # running it is what importing it does
            try:
                importlib.import_module(module)
            except Exception as error:
                failed[module] = f"{type(error).__name__}: {error}"
        uses -= {"", normalized(name)}
        wanted = declared(dist)
        report[normalized(name)] = {
            "undeclared": sorted(uses - wanted),
            "unimported": sorted(wanted - uses),
            "failed": failed,
        }
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=1, sort_keys=True))
