"""Settings layers and the one precedence function: option > session > project > user > default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambda_magic import SettingsError, resolve_settings, session_settings
from lambda_magic._settings import project_file


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def user_config(tmp_path: Path) -> Path:
    return tmp_path / "home" / ".config" / "lambda_magic" / "config.toml"


def test_defaults_when_nothing_is_set() -> None:
    settings = resolve_settings()
    assert settings.read_timeout == 960.0 and settings.log_tail is True
    assert settings.region is None and settings.sources["read_timeout"] == "default"
    assert "region" not in settings.sources  # left to the AWS chain


def test_each_layer_beats_the_one_below(isolated: Path, user_config: Path) -> None:
    write(user_config, 'region = "user-region"\nread_timeout = 11\nconnect_timeout = 4\nlog_tail = false\n')
    assert resolve_settings().region == "user-region"
    write(isolated / "lambda_magic.toml", 'region = "project-region"\nread_timeout = 22\n')
    session_settings().update(region="session-region")
    settings = resolve_settings(region="option-region")
    assert settings.region == "option-region" and settings.sources["region"] == "option"
    assert resolve_settings().region == "session-region"
    assert resolve_settings().read_timeout == 22.0
    assert resolve_settings().sources["read_timeout"].endswith("lambda_magic.toml")
    assert resolve_settings().connect_timeout == 4.0 and resolve_settings().log_tail is False
    session_settings().clear("region")
    assert resolve_settings().region == "project-region"


def test_pyproject_tool_table_is_found_upward(isolated: Path) -> None:
    write(isolated / "pyproject.toml", '[project]\nname = "x"\n\n[tool.lambda_magic]\nregion = "eu-west-1"\n')
    nested = isolated / "notebooks" / "deep"
    nested.mkdir(parents=True)
    assert project_file(nested) == isolated / "pyproject.toml"
    assert resolve_settings().region == "eu-west-1"


def test_pyproject_without_the_table_is_skipped(isolated: Path) -> None:
    write(isolated / "pyproject.toml", '[project]\nname = "x"\n')
    assert project_file(isolated) != isolated / "pyproject.toml"


def test_option_profile_beats_session_keys() -> None:
    session_settings().update(access_key="AKIAEXAMPLEKEY12", secret_key_path="env:SECRET")
    settings = resolve_settings(profile="ops")
    assert settings.profile == "ops" and settings.access_key is None and settings.secret_key_path is None
    keys = resolve_settings()
    assert keys.access_key == "AKIAEXAMPLEKEY12" and keys.profile is None


def test_session_profile_beats_file_keys(isolated: Path) -> None:
    write(isolated / "lambda_magic.toml", 'access_key = "AKIAFILE00000000"\nsecret_key_path = "env:S"\n')
    session_settings().update(profile="dev")
    settings = resolve_settings()
    assert settings.profile == "dev" and settings.access_key is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('regoin = "x"\n', "unknown setting 'regoin'"),
        ('read_timeout = "soon"\n', "is not a number"),
        ("region = [\n", "cannot read settings file"),
    ],
)
def test_bad_project_file_is_one_line(isolated: Path, text: str, message: str) -> None:
    write(isolated / "lambda_magic.toml", text)
    with pytest.raises(SettingsError, match=message):
        resolve_settings()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"read_timeout": -1}, "must be a positive number"),
        ({"max_concurrency": 0}, "at least 1"),
        ({"log_tail": "maybe"}, "is not true or false"),
        ({"colour": "blue"}, "unknown setting 'colour'"),
    ],
)
def test_bad_session_values_change_nothing(values: dict[str, Any], message: str) -> None:
    session_settings().update(region="kept")
    with pytest.raises(SettingsError, match=message):
        session_settings().update(region="changed", **values)
    assert session_settings().region == "kept"


def test_text_values_are_coerced() -> None:
    session_settings().update(log_tail="off", read_timeout="30", throttle_retries="2")
    settings = resolve_settings()
    assert settings.log_tail is False and settings.read_timeout == 30.0 and settings.throttle_retries == 2


def test_config_magic_sets_the_session_layer(shell: Any) -> None:
    shell.run_line_magic("config", "LambdaMagic.region = 'ap-south-1'")
    assert resolve_settings().region == "ap-south-1"
    assert resolve_settings().sources["region"] == "session"
    shell.run_cell("%config LambdaMagic.read_timeout = -5")
    assert resolve_settings().read_timeout == 960.0  # the invalid value was refused


def test_lambda_config_magic_sets_unsets_and_shows(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("lambda_config", "region=eu-north-1 read_timeout=45 access_key=AKIAABCDEFGHIJKL")
    assert resolve_settings().read_timeout == 45.0
    capsys.readouterr()
    shell.run_line_magic("lambda_config", "")
    shown = capsys.readouterr().out
    assert "eu-north-1" in shown and "(session)" in shown
    assert "AKIA****IJKL" in shown and "AKIAABCDEFGHIJKL" not in shown
    shell.run_line_magic("lambda_config", "region=")
    assert session_settings().region is None
    shell.run_line_magic("lambda_config", "--reset")
    assert session_settings().values() == {}


def test_lambda_config_bad_word_is_a_usage_error(shell: Any) -> None:
    from IPython.core.error import UsageError

    result = shell.run_cell("%lambda_config region")
    assert type(result.error_in_exec) is UsageError
    assert "is not key=value" in str(result.error_in_exec)


def test_out_of_range_values_are_refused_in_every_layer(isolated: Path) -> None:
    from lambda_magic import ParameterError

    with pytest.raises(ParameterError, match=r"read_timeout must be a positive number of seconds, not 0 \(option\)"):
        resolve_settings(read_timeout=0)
    write(isolated / "lambda_magic.toml", "throttle_retries = -2\n")
    with pytest.raises(SettingsError, match=r"throttle_retries must be at least 0, not -2 \(.*lambda_magic.toml\)"):
        resolve_settings()


def test_a_misspelled_setting_fails_at_the_call_even_when_none() -> None:
    """``resolve_settings(regoin=None)`` once passed silently: the None was skipped unchecked."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'regoin'"):
        resolve_settings(regoin=None)
    with pytest.raises(TypeError, match="'regoin'"):
        resolve_settings(regoin="eu-west-1")


def test_every_setting_is_declared_once_in_the_table() -> None:
    """The trait, the default, ``Settings``' field and the README row all come from TABLE."""
    from dataclasses import fields
    from pathlib import Path
    from typing import get_type_hints

    from lambda_magic._settings import DEFAULTS, TABLE, LambdaMagic, Settings, settings_table

    names = [setting.name for setting in TABLE]
    assert [f.name for f in fields(Settings) if f.name != "sources"] == names
    hints = get_type_hints(Settings)
    traits = LambdaMagic.class_traits(config=True)
    assert sorted(traits) == sorted(names)
    for setting in TABLE:
        assert setting.kind in (hints[setting.name], *getattr(hints[setting.name], "__args__", ()))
        field_default = {f.name: f.default for f in fields(Settings)}[setting.name]
        assert field_default == setting.default, setting.name
        assert setting.meaning.replace("`", "")[1:] in traits[setting.name].help
    assert set(DEFAULTS) == {s.name for s in TABLE if s.default is not None}
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme


def test_the_retry_policy_defaults_are_the_settings_defaults() -> None:
    from lambda_magic._engine import RetryPolicy
    from lambda_magic._invoke import policy_for

    assert RetryPolicy() == policy_for(resolve_settings())


def test_lambda_config_reads_values_with_shell_quoting(shell: Any, tmp_path: Path) -> None:
    secret = write(tmp_path / "my keys" / "secret", "the-secret")
    secret.chmod(0o600)
    result = shell.run_cell(
        f"%lambda_config region=\"eu-west-1\" secret_key_path='{secret}' access_key=AKIAQUOTEDVALUES"
    )
    assert result.success, result.error_in_exec
    assert session_settings().region == "eu-west-1"  # not '"eu-west-1"'
    assert session_settings().secret_key_path == str(secret)
    from lambda_magic._client import credential_source

    assert credential_source(resolve_settings())[0] == "keys"  # the path with a space is usable


def test_lambda_config_reset_takes_setting_names(shell: Any) -> None:
    shell.run_line_magic("lambda_config", "region=eu-west-1 read_timeout=30 profile=dev")
    shell.run_line_magic("lambda_config", "--reset region profile")
    assert session_settings().values() == {"read_timeout": 30.0}
    result = shell.run_cell("%lambda_config --reset read_timeout=5")
    message = str(result.error_in_exec)
    assert message == "--reset takes setting names, not key=value: %lambda_config --reset read_timeout"
    assert session_settings().read_timeout == 30.0


def test_config_magic_masks_the_access_key_id(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("lambda_config", "access_key=AKIAVISIBLEKEY123")
    capsys.readouterr()
    shell.run_line_magic("config", "LambdaMagic")
    shown = capsys.readouterr().out
    assert "access_key" in shown and "AKIA****Y123" in shown
    assert "AKIAVISIBLEKEY123" not in shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("read_timeout = true\n", "read_timeout = True (.*) is not a number"),
        ("max_concurrency = 2.7\n", "max_concurrency = 2.7 (.*) is not a whole number"),
        ('region = ["eu-west-1"]\n', r"region = \['eu-west-1'\] (.*) is not text"),
        ("read_timeout = nan\n", "read_timeout must be a finite number, not nan"),
        ("connect_timeout = inf\n", "connect_timeout must be a finite number, not inf"),
    ],
)
def test_file_values_keep_their_declared_type(isolated: Path, text: str, message: str) -> None:
    """No silent truncation (2.7 -> 2), no True -> 1 s, no str() of a list, no NaN."""
    write(isolated / "lambda_magic.toml", text)
    with pytest.raises(SettingsError, match=message):
        resolve_settings()
