"""The package's layers, read from its source: no module imports from a layer above its own,
and no modules import each other in a cycle.

The layers, lowest first: the optimizers and initializers a user composes (``nesterov_jax``'s
top-level modules), the engine (knows no paper), the paper (tasks, families, tables), the
experiments, and the command line. A module may import its own layer and the ones below.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LAYERS = ("library", "engine", "paper", "experiments", "cli")


def _module_files():
  files = {}
  for path in sorted((ROOT / "nesterov_jax").rglob("*.py")):
    parts = path.relative_to(ROOT).with_suffix("").parts
    files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
  for path in sorted((ROOT / "experiments").glob("*.py")):
    stem = path.stem
    files["nesterov_jax.experiments" + ("" if stem == "__init__" else "." + stem)] = path
  return files


MODULES = _module_files()


def layer(module: str) -> int:
  parts = module.split(".")
  if module in ("nesterov_jax.cli", "nesterov_jax.__main__"):
    return LAYERS.index("cli")
  if len(parts) > 1 and parts[1] in ("engine", "paper", "experiments"):
    return LAYERS.index(parts[1])
  return LAYERS.index("library")


def imports(module: str) -> set[str]:
  """The package's modules that ``module`` imports, at any depth of its code (lazy imports too)."""
  tree = ast.parse(MODULES[module].read_text())
  package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
  found = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        base = ".".join(
          package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
        )
      names = [base] + [f"{base}.{a.name}" for a in node.names]
    else:
      continue
    found.update(n for n in names if n in MODULES and n != module)
  return found


GRAPH = {m: imports(m) for m in MODULES}


def test_the_reader_sees_the_packages_modules_and_their_imports():
  # The checks below pass vacuously on a reader that finds nothing: pin what it must find.
  assert {
    "nesterov_jax.momentum",
    "nesterov_jax.engine.train",
    "nesterov_jax.paper.rnn",
    "nesterov_jax.experiments.sweep",
    "nesterov_jax.cli",
  } <= set(MODULES)
  assert "nesterov_jax.engine.programs" in GRAPH["nesterov_jax.engine.train"]
  assert "nesterov_jax.momentum" in GRAPH["nesterov_jax.paper.optimizers"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_layer_above_its_own(module):
  above = sorted(m for m in GRAPH[module] if layer(m) > layer(module))
  assert not above, f"{module} ({LAYERS[layer(module)]}) imports {above}"


def test_a_module_that_imports_a_layer_above_is_caught():
  # The rule itself, on a made-up edge: the engine importing the paper.
  assert layer("nesterov_jax.paper.tables") > layer("nesterov_jax.engine.report")
  assert layer("nesterov_jax.cli") > layer("nesterov_jax.experiments.demo")


def _cycle(graph):
  """One import cycle in ``graph`` (a list of modules), or None. Package ``__init__`` files
  that re-export their own modules are left out: the interpreter runs them first."""
  state, stack = {}, []

  def visit(m):
    state[m] = "open"
    stack.append(m)
    for n in sorted(graph.get(m, ())):
      if state.get(n) == "open":
        return stack[stack.index(n) :] + [n]
      if n not in state and (found := visit(n)):
        return found
    state[m] = "done"
    stack.pop()
    return None

  for m in sorted(graph):
    if m not in state and (found := visit(m)):
      return found
  return None


def test_there_are_no_import_cycles():
  graph = {
    m: {n for n in deps if MODULES[n].name != "__init__.py" and not m.startswith(n + ".")}
    for m, deps in GRAPH.items()
    if MODULES[m].name != "__init__.py"
  }
  assert _cycle(graph) is None, " -> ".join(_cycle(graph))
  assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


# The paper's task fields and words: the engine's code may name none of them. A check that
# names them (as engine/tasks.py once did for the RNN's fields) belongs to the task.
PAPER_WORDS = (
  "hidden_size",
  "num_eval_sequences",
  '"unroll"',
  '"problem"',
  '"length"',
  "curves_ae",
  "mnist",
)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if ".engine." in m))
def test_the_engine_names_none_of_the_papers_task_fields(module):
  code = MODULES[module].read_text()
  code = "\n".join(line.split("#")[0] for line in code.splitlines())  # comments may explain
  named = [w for w in PAPER_WORDS if w in code]
  assert not named, f"{module} names {named}: declare them on the task's builder instead"
