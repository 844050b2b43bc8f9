"""The conda environments in envs/ pin the same packages and versions as requirements.txt, and every
rule that runs code names one of them with `conda:`."""

import re
from pathlib import Path

import pytest
import yaml
from conftest import REPO

# Needed only by whoever runs Snakemake or develops tearflow, not inside a step's environment.
RUNNER_ONLY = {
    "snakemake",
    "snakemake-executor-plugin-slurm",
    "pytest",
    "snakefmt",
    "ruff",
    "snakedeploy",
    "websocket-client",
    "setuptools",
}
# Conda package name -> the pip name it provides; None: not a Python package pin.
CONDA_TO_PIP = {"matplotlib-base": "matplotlib", "python": None, "pip": None}
# A rule runs code (and so needs `conda:`) when it has one of these directives.
CODE_DIRECTIVES = ("script", "shell", "notebook", "wrapper")


def normalized(name):
    """PEP 503 form of a package name: lower case, runs of -_. as one '-'."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


PROJECT_ITSELF = "-e ."  # requirements.txt installs tearflow's own package (pyproject.toml)


def parse_requirements(path):
    """{package: version or None} from a pip requirements file (`name==version` or `name`); the
    line that installs the project itself (`-e .`) is not a dependency."""
    pins = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line or line == PROJECT_ITSELF:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==\s*([^\s;]+))?", line)
        if match is None:
            raise ValueError(f"{path}:{number}: cannot read requirement '{line}'")
        pins[normalized(match.group(1))] = match.group(2)
    return pins


def parse_conda_env(path):
    """{pip package name: version or None} from a conda env file's dependencies (`name=version`,
    `name==version` or `name`; a nested `pip:` list is read like requirements)."""
    env = yaml.safe_load(Path(path).read_text())
    pins = {}
    for dependency in env.get("dependencies", []):
        if isinstance(dependency, dict):
            for line in dependency.get("pip", []):
                name, _, version = line.partition("==")
                pins[normalized(name)] = version.strip() or None
            continue
        match = re.fullmatch(r"(?:[\w-]+::)?([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==?\s*(\S+))?", dependency)
        if match is None:
            raise ValueError(f"{path}: cannot read dependency '{dependency}'")
        name = normalized(match.group(1))
        name = CONDA_TO_PIP.get(name, name)
        if name is not None:
            pins[name] = match.group(2)
    return pins


def rule_blocks(text):
    """{rule name: rule body text} for every `rule`/`checkpoint` of a .smk file: the body is every
    line after the header up to the next line that starts at column 0."""
    blocks = {}
    lines = text.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"(?:rule|checkpoint)\s+(\w+)\s*:", line)
        if match is None:
            continue
        body = []
        for following in lines[index + 1 :]:
            if following.strip() and not following[0].isspace():
                break
            body.append(following)
        blocks[match.group(1)] = "\n".join(body)
    return blocks


def conda_path(body):
    """The string the `conda:` directive of a rule body names, or None if it has none."""
    match = re.search(r"^\s+conda:\s*(?:\n\s*)?[rf]?(['\"])(.+?)\1", body, flags=re.MULTILINE)
    return match.group(2) if match else None


def runs_code(body):
    return any(re.search(rf"^\s+{directive}:", body, flags=re.MULTILINE) for directive in CODE_DIRECTIVES)


def env_pins():
    """{package: (version, env file)} over all envs/*.yaml."""
    pins = {}
    for path in sorted((REPO / "envs").glob("*.yaml")):
        for name, version in parse_conda_env(path).items():
            pins[name] = (version, path.name)
    return pins


def step_requirements():
    return {
        name: version
        for name, version in parse_requirements(REPO / "requirements.txt").items()
        if name not in RUNNER_ONLY
    }


# ------------------------------------------------------------------ the parsers themselves


def test_parse_requirements_reads_pins_and_bare_names(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("# comment\nPyYAML==6.0.3  # inline\nscikit_learn\n\nnumpy == 2.4.6\n")
    assert parse_requirements(path) == {"pyyaml": "6.0.3", "scikit-learn": None, "numpy": "2.4.6"}


def test_parse_conda_env_maps_names_and_skips_python(tmp_path):
    path = tmp_path / "env.yaml"
    path.write_text(
        "channels: [conda-forge]\n"
        "dependencies:\n"
        "  - python=3.11\n  - matplotlib-base=3.11.2\n  - conda-forge::PyYAML==6.0.3\n"
        "  - pip:\n    - extra==1.0\n"
    )
    assert parse_conda_env(path) == {"matplotlib": "3.11.2", "pyyaml": "6.0.3", "extra": "1.0"}


def test_rule_blocks_and_conda_path_find_a_missing_directive():
    text = (
        "rule a:\n    input: 'x'\n    conda:\n        '../../envs/tearflow.yaml'\n    script: 's.py'\n\n"
        "def helper():\n    pass\n\n"
        "rule b:\n    output: 'y'\n    shell: 'touch {output}'\n"
        "rule c:\n    input: 'y'\n"
    )
    blocks = rule_blocks(text)
    assert set(blocks) == {"a", "b", "c"}
    assert conda_path(blocks["a"]) == "../../envs/tearflow.yaml"
    assert conda_path(blocks["b"]) is None and runs_code(blocks["b"])
    assert not runs_code(blocks["c"])


# ------------------------------------------------------------------ the repository


def test_requirements_install_the_tearflow_package_and_its_dependencies():
    """The README's one install command installs the package; the package names what it needs."""
    lines = [line.split("#", 1)[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    assert PROJECT_ITSELF in lines
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    needed = {normalized(re.split(r"[<>=\[ ]", name)[0]) for name in project["dependencies"]}
    assert needed <= set(step_requirements()), sorted(needed - set(step_requirements()))


def test_every_requirement_is_pinned():
    unpinned = sorted(name for name, version in step_requirements().items() if version is None)
    assert not unpinned, f"requirements.txt: pin these with ==<version>: {unpinned}"


def test_every_requirement_is_in_a_conda_env_with_the_same_version():
    envs = env_pins()
    problems = []
    for name, version in sorted(step_requirements().items()):
        if name not in envs:
            problems.append(f"{name}=={version} is in requirements.txt but in no envs/*.yaml")
        elif version is not None and envs[name][0] != version:
            problems.append(f"{name}: requirements.txt pins {version}, {envs[name][1]} pins {envs[name][0]}")
    assert not problems, "\n".join(problems)


def test_every_conda_package_is_a_requirement_with_the_same_version():
    requirements = step_requirements()
    problems = []
    for name, (version, env_file) in sorted(env_pins().items()):
        if name not in requirements:
            problems.append(f"{env_file} has {name} but requirements.txt does not")
        elif version is None:
            problems.append(f"{env_file}: {name} is not pinned")
        elif requirements[name] is not None and requirements[name] != version:
            problems.append(f"{name}: {env_file} pins {version}, requirements.txt {requirements[name]}")
    assert not problems, "\n".join(problems)


def test_conda_envs_use_conda_forge_and_bioconda_only():
    for path in sorted((REPO / "envs").glob("*.yaml")):
        channels = yaml.safe_load(path.read_text())["channels"]
        assert channels == ["conda-forge", "bioconda", "nodefaults"], path.name


RULE_FILES = sorted((REPO / "workflow" / "rules").glob("*.smk"))


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=[path.name for path in RULE_FILES])
def test_every_rule_that_runs_code_has_an_existing_conda_env(rule_file):
    problems = []
    for name, body in rule_blocks(rule_file.read_text()).items():
        if not runs_code(body):
            continue
        env = conda_path(body)
        if env is None:
            problems.append(f"rule {name}: no `conda:` directive")
        elif not (rule_file.parent / env).resolve().is_file():
            problems.append(f"rule {name}: conda env '{env}' does not exist")
        elif (rule_file.parent / env).resolve().parent != (REPO / "envs").resolve():
            problems.append(f"rule {name}: conda env '{env}' is not in envs/")
    assert not problems, f"{rule_file.name}:\n" + "\n".join(problems)
