"""Writes strided/layers/keras_ops_table.json: how Keras 3 records each ``keras.ops`` function in a saved model.

A ``keras.ops`` function called on symbolic tensors becomes an Operation whose constructor arguments
are the saved ``config`` and whose call arguments are the node's ``args``. This reads Keras's source
(the ``return SomeOp(...).symbolic_call(...)`` or ``return SomeOp(...)(...)`` line of each function) and records, per function:
the module and class Keras writes, which function parameters go to which constructor parameter,
and which go to the call (in order, then by keyword), the function's parameters in order and their literal defaults. Functions whose recording is not a plain mapping of their
parameters are left out (strided then refuses to save them, with a message).

Dev tool, needs real Keras: ``KERAS_BACKEND=torch .venv/bin/python tools/keras_ops_table.py``.
"""

import ast
import inspect
import json
import pathlib

import keras  # noqa: F401  (the installed Keras is the source of truth)
from keras.src.ops import core, image, linalg, math, nn, numpy

OUT = pathlib.Path(__file__).resolve().parents[1] / "strided" / "layers" / "keras_ops_table.json"


def _class_params(tree, name, method):
    """Positional parameter names of ``name.method`` in the module's AST (without self)."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == method:
                    a = item.args
                    names = [p.arg for p in a.posonlyargs + a.args][1:]
                    return names, [p.arg for p in a.kwonlyargs], a.vararg is not None
            return None  # inherited: not a plain mapping
    return None


def _recording(fn_node, tree):
    """(class, config {ctor param: fn param}, call [fn params]) of the function's symbolic branch, or None."""
    params = {p.arg for p in fn_node.args.posonlyargs + fn_node.args.args + fn_node.args.kwonlyargs}
    for node in ast.walk(fn_node):
        if not (isinstance(node, ast.Return) and isinstance(node.value, ast.Call)):
            continue
        call = node.value
        if isinstance(call.func, ast.Attribute) and call.func.attr == "symbolic_call":
            ctor = call.func.value  # SomeOp(...).symbolic_call(x)
        else:
            ctor = call.func  # SomeOp(...)(x)
        if not (isinstance(ctor, ast.Call) and isinstance(ctor.func, ast.Name) and ctor.func.id[:1].isupper()):
            continue
        cls = ctor.func.id
        init = _class_params(tree, cls, "__init__")
        if init is None and any(isinstance(n, ast.ClassDef) and n.name == cls for n in tree.body):
            init = ([], [], False)  # no __init__ of its own: the Operation one (name only)
        if init is None:
            return None
        init_pos, init_kw, _ = init
        config = {}
        for i, arg in enumerate(ctor.args):
            if not (isinstance(arg, ast.Name) and arg.id in params) or i >= len(init_pos):
                return None
            config[init_pos[i]] = arg.id
        for kw in ctor.keywords:
            if kw.arg is None or kw.arg == "name" or not (isinstance(kw.value, ast.Name) and kw.value.id in params):
                return None
            config[kw.arg] = kw.value.id
        call_args, call_kwargs = [], {}
        for arg in call.args:
            if not (isinstance(arg, ast.Name) and arg.id in params):
                return None
            call_args.append(arg.id)
        for kw in call.keywords:
            if kw.arg is None or not (isinstance(kw.value, ast.Name) and kw.value.id in params):
                return None
            call_kwargs[kw.arg] = kw.value.id
        return cls, config, call_args, call_kwargs
    return None


def main():
    table = {}
    for module in (numpy, nn, core, math, image, linalg):
        source = inspect.getsource(module)
        tree = ast.parse(source)
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            exported = any("keras.ops" in ast.unparse(d) for d in node.decorator_list)
            rec = _recording(node, tree) if exported else None
            if rec is None:
                continue
            cls, config, call_args, call_kwargs = rec
            a = node.args
            positional = a.posonlyargs + a.args
            params = [p.arg for p in positional + a.kwonlyargs]
            defaults = {}
            for param, default in list(zip(positional[len(positional) - len(a.defaults) :], a.defaults)) + [
                (p, d) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None
            ]:
                try:
                    defaults[param.arg] = ast.literal_eval(default)
                except ValueError:
                    pass  # not a literal: callers must pass it
            table[node.name] = {
                "module": module.__name__,
                "class_name": cls,
                "config": config,
                "call": call_args,
                "call_kwargs": call_kwargs,
                "params": params,
                "defaults": defaults,
            }
    OUT.write_text(json.dumps(dict(sorted(table.items())), indent=1) + "\n")
    print(f"{len(table)} ops written to {OUT}")


if __name__ == "__main__":
    main()
