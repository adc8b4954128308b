"""The import graph of ``strided/`` and the layering it must follow (docs/design.md, "Layers of the package").

Every ``import`` statement is read with ``ast``, those inside functions included. A module may import only
from its own level or a level below it; no two modules may import each other in a cycle; an import inside a
function is allowed only for an optional dependency or for one of the ``LAZY_EXCEPTIONS`` below, and an optional
dependency is imported only inside a function (``optional_import("h5py", ...)`` calls count as its imports).

    python tools/import_graph.py            # the report: levels, violations, cycles, imports inside functions
"""

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "strided"

# Lowest level first. A module belongs to the first level with a prefix that matches its dotted name: a
# prefix matches the module itself and everything below it; one ending in "." only what is below it; one
# starting with "=" only the module itself.
LEVELS = [
    ("config", ["strided.config"]),
    ("utils", ["strided.utils."]),
    ("initializers", ["strided.initializers"]),
    ("backend", ["strided.backend"]),
    ("distribution", ["strided.distribution"]),
    ("ops", ["strided.ops", "strided.nn", "strided.random"]),
    ("serialization", ["strided.saving.serialization_lib"]),
    ("registries", ["strided.activations", "strided.regularizers", "strided.constraints"]),
    ("losses", ["strided.losses"]),
    ("metrics", ["strided.metrics"]),
    ("optimizers", ["strided.optimizers", "strided.mixed_precision"]),
    ("layers", ["strided.layers", "strided.quantizers"]),
    ("callbacks", ["strided.callbacks"]),
    ("data", ["strided.data", "strided.datasets", "strided.preprocessing"]),
    ("trainers", ["strided.training"]),
    ("models", ["strided.models"]),
    ("saving", ["strided.saving"]),
    ("applications", ["strided.applications", "strided.visualize", "strided.testing"]),
    ("interface", ["strided.cli", "strided.__main__", "strided._aliases", "=strided.utils", "=strided"]),
]

# Packages that strided does not require: imported where they are used, so that `import strided` needs
# only torch and NumPy.
OPTIONAL = {
    "matplotlib",
    "h5py",
    "PIL",
    "pandas",
    "tensorboard",
    "onnx",
    "onnxscript",
    "onnxruntime",
    "scipy",
    "IPython",
    "ipywidgets",
    "psutil",
    "requests",
}

# Imports that must stay inside a function, each with its reason: (importing module, imported module).
LAZY_EXCEPTIONS = {
    # A model saves, exports and describes itself through the saving package, which reads and writes models
    # (Keras's `Model.save`): the methods reach up to it when they are called.
    **{
        ("strided.models.model", target): "Model.save/load_weights/export reach the saving package"
        for target in ("strided.saving.saving_api", "strided.saving.export", "strided.saving.keras_format")
    },
    ("strided.models.functional", "strided.saving.keras_format"): "Functional orders its layers as .keras files do",
    # FeatureSpace is a layer that saves itself as a .keras file (Keras's FeatureSpace.save).
    **{
        ("strided.layers.feature_space", target): "FeatureSpace.save writes a .keras file"
        for target in ("strided.saving.keras_format", "strided.saving.saving_api")
    },
}


def module_name(path, root=ROOT):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def level_of(module):
    for index, (_, prefixes) in enumerate(LEVELS):
        for prefix in prefixes:
            if prefix.startswith("="):
                matched = module == prefix[1:]
            elif prefix.endswith("."):
                matched = module.startswith(prefix)
            else:
                matched = module == prefix or module.startswith(prefix + ".")
            if matched:
                return index
    raise KeyError(f"{module} has no level in tools/import_graph.py LEVELS")


def _resolve(module, is_package, node, modules):
    """The strided modules (or external top-level packages) an import statement names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join(parts + ([base] if base else []))
    names = []
    for alias in node.names:
        full = f"{base}.{alias.name}"
        names.append(full if full in modules else base)
    return names


def _optional_import(node):
    """The optional package a call ``optional_import("module", ..., package=...)`` (strided/utils/optional.py)
    imports, or None for any other node: such a call is an import written as a function call."""
    if (
        not isinstance(node, ast.Call)
        or getattr(node.func, "id", getattr(node.func, "attr", None)) != "optional_import"
    ):
        return None
    names = [kw.value for kw in node.keywords if kw.arg == "package"] + node.args[:1]
    if not names or not isinstance(names[0], ast.Constant) or not isinstance(names[0].value, str):
        raise ValueError(f"line {node.lineno}: optional_import must name its module or package as a string literal")
    return names[0].value.split(".")[0]


def _owner(name, modules):
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def scan(root=ROOT):
    """Returns (modules, edges): edges are (importer, imported, line, inside_function) for every import."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    edges = []
    for module, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"

        def visit(node, in_function):
            for child in ast.iter_child_nodes(node):
                inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for name in _resolve(module, is_package, child, files):
                        target = _owner(name, files) if name.split(".")[0] == "strided" else name.split(".")[0]
                        edges.append((module, target, child.lineno, in_function))
                package = _optional_import(child)
                if package is not None:
                    edges.append((module, package, child.lineno, in_function))
                visit(child, inner)

        visit(tree, False)
    return files, edges


def upward_imports(files, edges):
    return [
        (a, b, line)
        for a, b, line, inside in edges
        if b in files and a != b and level_of(b) > level_of(a) and not (inside and (a, b) in LAZY_EXCEPTIONS)
    ]


def module_level_optional_imports(edges):
    """Optional packages imported when a module is imported: ``import strided`` must need only torch and NumPy."""
    return [(a, b, line) for a, b, line, inside in edges if b in OPTIONAL and not inside]


def lazy_imports(files, edges):
    """Imports inside functions that are neither of an optional dependency nor a listed exception."""
    return [
        (a, b, line)
        for a, b, line, inside in edges
        if inside
        and b not in OPTIONAL
        and (a, b) not in LAZY_EXCEPTIONS
        and b not in ("torch", "numpy", "importlib")
        and b in files
    ]


def cycles(files, edges):
    """Strongly connected components (more than one module) of the module-level import graph."""
    graph = {m: set() for m in files}
    for a, b, _, inside in edges:
        if (
            not inside
            and b in files
            and a != b
            and not (b == "strided" or a.startswith(b + ".") and files[b].name == "__init__.py")
        ):
            graph[a].add(b)
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def connect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            connect(v)
    return found


def main():
    files, edges = scan()
    up = upward_imports(files, edges)
    lazy = lazy_imports(files, edges)
    found = cycles(files, edges)
    optional = module_level_optional_imports(edges)
    print(f"{len(files)} modules, {len(edges)} imports")
    print(f"\nupward imports: {len(up)}")
    for a, b, line in up:
        print(f"  {a}:{line} -> {b}  ({LEVELS[level_of(a)][0]} -> {LEVELS[level_of(b)][0]})")
    print(f"\nmodule-level cycles: {len(found)}")
    for component in found:
        print(f"  {len(component)}: {', '.join(component)}")
    print(f"\nimports inside functions (not optional, not listed): {len(lazy)}")
    for a, b, line in lazy:
        print(f"  {a}:{line} -> {b}")
    print(f"\noptional packages imported at module level: {len(optional)}")
    for a, b, line in optional:
        print(f"  {a}:{line} -> {b}")
    return 1 if up or found or optional or len(lazy) >= 20 else 0


if __name__ == "__main__":
    sys.exit(main())
