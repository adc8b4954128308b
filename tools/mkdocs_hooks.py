"""MkDocs hooks of the API reference site (mkdocs.yml: ``hooks``).

One page per public module, ``api/strided.<module>.md``, generated at build time: it lists the module's public
names (its ``__all__``, else its public classes and functions) as mkdocstrings ``:::`` blocks under their PUBLIC
path (``strided.layers.Conv2D``), so the pages follow the code wherever the classes are defined. The benchmarks'
README is added as a page too, and links to it from the other pages point at that page.
"""

import importlib
import inspect
import pathlib

from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).resolve().parents[1]

# The public modules, in the order of the navigation.
PUBLIC_MODULES = [
    "layers",
    "models",
    "ops",
    "activations",
    "losses",
    "metrics",
    "optimizers",
    "callbacks",
    "initializers",
    "regularizers",
    "constraints",
    "datasets",
    "data",
    "preprocessing",
    "applications",
    "visualize",
    "utils",
    "saving",
    "random",
    "backend",
    "config",
    "mixed_precision",
    "quantizers",
    "distribution",
    "nn",
]


def public_names(module):
    """The names a page documents: ``__all__`` when the module has one, else its public classes and functions."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, v in vars(module).items()
            if not n.startswith("_")
            and (inspect.isclass(v) or inspect.isfunction(v))
            and getattr(v, "__module__", "").startswith("strided")
        ]
    seen, out = set(), []
    for name in names:
        value = getattr(module, name, None)
        if value is None or inspect.ismodule(value) or name in seen:
            continue
        seen.add(name)
        out.append(name)
    return sorted(out, key=lambda n: (not inspect.isclass(getattr(module, n)), n.lower()))


_DOCUMENTED = set()  # identifiers already rendered (lazily re-exported objects can appear in two modules)


def module_page(name):
    module = importlib.import_module(f"strided.{name}")
    summary = (inspect.getdoc(module) or "").strip()
    lines = [f"# strided.{name}", "", summary, ""]
    paths, aliases = {}, []
    for member in public_names(module):
        value = getattr(module, member)
        if getattr(value, "__name__", None) == member and (inspect.isclass(value) or inspect.isfunction(value)):
            # Names the module binds itself are documented under the public path; lazily imported ones (a module
            # `__getattr__`, invisible to griffe) under the path of the module that defines them.
            # A name shared with a submodule (`strided.losses.hinge`, the function and the module) is documented
            # under its defining module too, or the path would name the submodule.
            folder = pathlib.Path(module.__file__).parent
            shadowed = module.__file__.endswith("__init__.py") and (
                (folder / f"{member}.py").exists() or (folder / member / "__init__.py").exists()
            )
            public = member in vars(module) and not shadowed
            paths[member] = f"strided.{name}.{member}" if public else f"{value.__module__}.{member}"
        elif inspect.isclass(value) or inspect.isfunction(value):
            aliases.append((member, value.__name__))
    links = [f"`{alias}` (= [`{target}`][{paths[target]}])" for alias, target in aliases if target in paths]
    if links:  # folded, so that the page starts with its summary and the first class
        lines += [f'??? info "Other names ({len(links)})"', "", "    " + ", ".join(links) + ".", ""]
    for member, path in paths.items():
        value = getattr(module, member)
        if "<locals>" in getattr(getattr(value, "__init__", None), "__qualname__", ""):
            # A class made by a factory function: mkdocstrings cannot follow its __init__, so it is written here.
            lines += [
                f"## {member}",
                "",
                f"`strided.{name}.{member}{inspect.signature(value)}`",
                "",
                inspect.getdoc(value) or "",
                "",
            ]
            continue
        if path in _DOCUMENTED:
            lines += [f"`{member}`: see [`{path}`][{path}].", ""]
            continue
        _DOCUMENTED.add(path)
        lines += [f"::: {path}", ""]
    return "\n".join(lines)


def public_names_set(module):
    return {n for n in public_names(module) if getattr(getattr(module, n), "__name__", None) == n}


def on_config(config):
    nav = config["nav"]
    api = [{f"strided.{name}": f"api/strided.{name}.md"} for name in PUBLIC_MODULES]
    for entry in nav:
        if isinstance(entry, dict) and "API reference" in entry:
            entry["API reference"] = api
            break
    else:
        nav.append({"API reference": api})
    return config


def on_files(files, config):
    _DOCUMENTED.clear()
    for name in PUBLIC_MODULES:
        files.append(File.generated(config, f"api/strided.{name}.md", content=module_page(name)))
    files.append(File.generated(config, "benchmarks.md", content=(ROOT / "benchmarks" / "README.md").read_text()))
    return files


def on_page_markdown(markdown, page, config, files):
    return markdown.replace("../benchmarks/README.md", "benchmarks.md")
