"""Start-up: `paramcount WORD` imports only WORD's command module (estimator.cli.COMMANDS),
`paramcount --help` still lists every command, and no pydantic plugin scan happens."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_registered_command_is_in_the_table(cli):
    from estimator.cli import COMMANDS, _load, app

    _load()
    names = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
    # a command registered but missing from COMMANDS would be reachable only by luck
    assert names == set(COMMANDS)
    code, out, _ = cli("--help")
    assert code == 0
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == list(COMMANDS)


def test_a_spec_count_imports_only_its_command():
    code = ("import sys; from estimator.cli import main\n"
            "try:\n    main([sys.argv[1]])\nexcept SystemExit:\n    pass\n"
            "mods = sorted(m for m in sys.modules if m.startswith('estimator.cli.') or "
            "m in ('pydantic.plugin._loader', 'importlib.metadata', 'torch'))\n"
            "sys.stderr.write(repr([m for m in mods if m != 'pydantic.plugin._loader' or "
            "hasattr(sys.modules[m], '__file__')]))")
    p = subprocess.run([sys.executable, "-c", code, str(ROOT / "archspecs" / "alexnet.yaml")],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    # the count command's module and the shared helpers, no other command, no plugin scan
    # (pydantic's loader is the no-plugins stand-in, which has no __file__), no torch
    assert ast.literal_eval(p.stderr.strip().splitlines()[-1]) == ["estimator.cli.common", "estimator.cli.spec"]


def test_the_process_entry_freezes_start_up_and_keeps_output_and_exit_codes(cli):
    # `python -m estimator` (and the paramcount script, estimator.__main__:run) runs main() with a
    # young generation larger than Python's 700 objects and then freezes what start-up built,
    # so the interpreter's last collection at exit skips it; an atexit hook registered before
    # run() sees both, and the output and the exit codes are main()'s (in-process, main()
    # leaves the collector alone: nothing more frozen, the thresholds as they were; a catalog
    # load earlier in the same process may have frozen its own tree, see curation/catalog.py)
    import gc

    assert 'paramcount = "estimator.__main__:run"' in (ROOT / "pyproject.toml").read_text()
    probe = ("import atexit, gc, sys\n"
             "atexit.register(lambda: sys.stderr.write(f'frozen={gc.get_freeze_count() > 0} '\n"
             "                                         f'young={gc.get_threshold()[0] > 700}\\n'))\n"
             "sys.argv[0] = 'paramcount'\n"
             "from estimator.__main__ import run\nrun()\n")
    spec = str(ROOT / "archspecs" / "alexnet.yaml")
    p = subprocess.run([sys.executable, "-c", probe, spec], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    before = gc.get_freeze_count(), gc.get_threshold()
    code, out, _ = cli(spec)
    assert (p.returncode, p.stdout) == (code, out) == (0, out)
    assert p.stderr.splitlines()[-1] == "frozen=True young=True"
    # (frozen objects can be freed, so the count may fall; it never rises)
    assert gc.get_freeze_count() <= before[0] and gc.get_threshold() == before[1]
    bad = subprocess.run([sys.executable, "-m", "estimator", "no-such-spec.yaml"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", "no-such-spec.yaml: no such file\n")


def test_a_plain_spec_builds_no_family_model_and_keeps_the_family_keys_in_its_errors(tmp_path):
    # a plain spec is validated by PlainHeader (spec/model.py): the family's models
    # (spec/variants.py) are not even imported; a family still gets SpecHeader
    code = ("import sys; from estimator.analytic import load_spec\n"
            "load_spec(sys.argv[1])\n"
            "print('estimator.spec.variants' in sys.modules)\n"
            "load_spec(sys.argv[2], variant='BERT base')\n"
            "print('estimator.spec.variants' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code, "archspecs/alexnet.yaml", "archspecs/bert.yaml"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.stdout.split() == ["False", "True"], p.stderr
    # an unknown top-level key of a plain spec lists the keys of a spec file, variants included
    from estimator.analytic import load_spec_text
    from estimator.errors import SpecError
    from estimator.spec.model import PlainHeader, SpecHeader

    assert set(SpecHeader.model_fields) - set(PlainHeader.model_fields) == {"variants"}
    text = "name: T\ninptu: {vector: 4}\nlayers: [relu]\n"
    try:
        load_spec_text(text, "t.yaml")
    except SpecError as err:
        message = str(err)
    assert message == ("t.yaml:2: inptu: unknown key 'inptu' (did you mean 'input'?); valid keys: "
                       + ", ".join(sorted(SpecHeader.model_fields)))
    assert ", url, variants, vars, " in message


def test_pyyaml_is_imported_without_compiling_its_pure_python_readers_pattern():
    # spec/yamlload.py: yaml.reader.Reader.NON_PRINTABLE is compiled on first use, and works
    # as compiled (the pure-Python reader still refuses a control character)
    code = ("import re, estimator.spec.yamlload as y, yaml\n"
            "pattern = yaml.reader.Reader.NON_PRINTABLE\n"
            "print(type(pattern).__name__, pattern._compiled is None, re.compile is y._re_compile)\n"
            "try:\n    yaml.load('a: \\x07', Loader=yaml.SafeLoader)\n"
            "except yaml.reader.ReaderError as err:\n    print(err.character == 7)\n"
            "print(type(pattern._compiled).__name__, pattern.search('ab\\x85\\x01').start())")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    # \x85 (NEL) is printable to YAML, \x01 is not: the match is at index 3
    assert p.stdout.split("\n")[:3] == ["CompiledOnUse True True", "True", "Pattern 3"], p.stderr
