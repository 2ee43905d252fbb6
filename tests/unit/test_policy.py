"""The YAML permission policy: a matrix of users, kinds and names; malformed files; ACCESS_POLICY."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from access.loader import PolicyError, load_policy
from access.policy import AllowAll
from access.yaml_policy import YamlPolicy
from galaxy_chat.settings import SettingsError, load_settings
from galaxy_chat.testing.app_process import ROOT
from galaxy_chat.vocabulary.users import User

POLICY = """
groups:
  default:
    tools: [calculator, sql_query]
    data_sources: [handbook]
    models: ["Local *"]
  analysts:
    members: ["*@example.com", "Morgan.Reyes@galaxy.example"]
    tools: ["*"]
    data_sources: ["*"]
    models: ["*"]
  staff:
    domains: [galaxy.example, "*.galaxy.example"]
    tools: [calculator, user_lookup]
    data_sources: [handbook, hr_*]
    models: [OpenAI GPT-4]
  contractors:
    members: ["*.ext@galaxy.example", bob@example.com]
    tools: [calculator]
    deny:
      tools: [python, user_lookup]
      data_sources: ["hr_*"]
      models: ["*GPT-4*"]
"""
TOOLS = ["calculator", "python", "sql_query", "user_lookup"]
SOURCES = ["handbook", "hr_policies", "sales"]
MODELS = ["Anthropic Claude", "Local Ollama", "OpenAI GPT-4"]


@pytest.fixture
def policy() -> YamlPolicy:
    return YamlPolicy.parse(POLICY, "permissions.yml")


@pytest.mark.parametrize(("email", "tools", "sources", "models"), [
    # in no group: the default group
    ("someone@else.org", ["calculator", "sql_query"], ["handbook"], ["Local Ollama"]),
    # glob *@example.com: everything
    ("alice@example.com", TOOLS, SOURCES, MODELS),
    # exact email, case-insensitive in the file
    ("morgan.reyes@galaxy.example", TOOLS, SOURCES, MODELS),
    # domain and subdomain glob; the default group does not add to a grouped user
    ("ann@galaxy.example", ["calculator", "user_lookup"], ["handbook", "hr_policies"], ["OpenAI GPT-4"]),
    ("ann@emea.galaxy.example", ["calculator", "user_lookup"], ["handbook", "hr_policies"], ["OpenAI GPT-4"]),
    # a lookalike domain is not a member
    ("eve@galaxy.example.evil.com", ["calculator", "sql_query"], ["handbook"], ["Local Ollama"]),
    # staff + contractors: union of allows minus union of denies
    ("sam.ext@galaxy.example", ["calculator"], ["handbook"], []),
    # analysts allow everything, contractors deny: deny beats allow whichever group it comes from
    ("bob@example.com", ["calculator", "sql_query"], ["handbook", "sales"], ["Anthropic Claude", "Local Ollama"]),
])
def test_policy_matrix(policy: YamlPolicy, email: str, tools: list[str], sources: list[str],
                       models: list[str]) -> None:
    user = User(email)
    assert policy.tools_for(user, TOOLS) == tools
    assert policy.data_sources_for(user, SOURCES) == sources
    assert policy.models_for(user, MODELS) == models
    for name in TOOLS:
        assert policy.can_use(user, "tool", name) == (name in tools)
    for name in SOURCES:
        assert policy.can_use(user, "data_source", name) == (name in sources)


def test_names_match_case_insensitively_and_unknown_kinds_fail_closed(policy: YamlPolicy) -> None:
    staff = User("ann@galaxy.example")
    assert policy.can_use(staff, "model", "openai gpt-4")
    assert not policy.can_use(User("alice@example.com"), "widget", "anything")  # type: ignore[arg-type]


def test_no_default_group_means_nothing_for_strangers() -> None:
    policy = YamlPolicy.parse("groups:\n  team:\n    members: [a@example.com]\n    tools: ['*']\n", "p.yml")
    assert policy.tools_for(User("a@example.com"), TOOLS) == TOOLS
    assert policy.tools_for(User("b@example.com"), TOOLS) == []


def test_shipped_permissions_file_is_valid_and_sensible() -> None:
    policy = YamlPolicy.from_file(ROOT / "config" / "permissions.yml")
    everyone = User("visitor@somewhere.org")
    assert policy.tools_for(everyone, TOOLS) == ["calculator", "sql_query", "user_lookup"]
    assert policy.data_sources_for(everyone, SOURCES) == ["handbook", "hr_policies"]
    assert policy.tools_for(User("ada@example.com"), TOOLS) == TOOLS
    assert policy.tools_for(User("test@test.com"), TOOLS) == TOOLS  # the quick start's test-mode user
    contractor = User("sam.ext@galaxy.example")  # staff and contractor: the deny wins
    assert not policy.can_use(contractor, "tool", "user_lookup")
    assert not policy.can_use(contractor, "data_source", "hr_policies")
    assert policy.can_use(contractor, "data_source", "sales")


@pytest.mark.parametrize(("text", "expected"), [
    ("groups: [a", "p.yml: invalid YAML at line 1, column 11: expected ',' or ']', but got '<stream end>'"),
    ("", "p.yml: expected a mapping with 'groups:' (delete the file to allow everything)"),
    ("group: {}", "p.yml: unknown top-level key 'group' (expected 'groups')"),
    ("groups: {}", "p.yml: 'groups' must be a mapping of group names to groups"),
    ("groups:\n  team:\n    members: [a@example.com]\n    tool: [python]",
     "p.yml: groups.team: unknown field 'tool' (allowed: description, members, domains, tools, data_sources, "
     "models, mcp_servers, uploads, deny)"),
    ("groups:\n  team:\n    members: [a@example.com]\n    tools: python",
     "p.yml: groups.team: field 'tools': Input should be a valid list (got 'python')"),
    ("groups:\n  team:\n    members: [a@example.com]\n    deny: {tool: [python]}",
     "p.yml: groups.team: unknown field 'deny.tool' (allowed: tools, data_sources, models, mcp_servers, uploads)"),
    ("groups:\n  team:\n    tools: ['*']", "p.yml: groups.team: the group has no members (add 'members' or 'domains')"),
    ("groups:\n  team:\n", "p.yml: groups.team: expected a mapping of fields (allowed: description, members, "
                          "domains, tools, data_sources, models, mcp_servers, uploads, deny)"),
    ("groups:\n  team:\n    members: [alice]", "p.yml: groups.team.members[0]: 'alice' is not an email or a glob "
                                               "like *@example.com"),
    ("groups:\n  team:\n    domains: ['not a domain']", "p.yml: groups.team.domains[0]: 'not a domain' is not a "
                                                         "domain like example.com or *.example.com"),
    ("groups:\n  default:\n    members: [a@example.com]", "p.yml: groups.default: the default group takes no "
                                                          "members (it applies to everyone in no other group)"),
    ("groups:\n  team:\n    members: [a@example.com]\n    models: ['']",
     "p.yml: groups.team.models[0]: an empty name matches nothing"),
])
def test_malformed_files_give_one_line(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as caught:
        YamlPolicy.parse(text, "p.yml")
    assert str(caught.value) == expected
    assert "\n" not in str(caught.value)


def test_no_permissions_file_allows_all(tmp_path: Path) -> None:
    settings = load_settings(env_file=None, permissions_file=tmp_path / "absent.yml")
    assert isinstance(load_policy(settings), AllowAll)


def test_permissions_file_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "permissions.yml"
    path.write_text(POLICY)
    policy = load_policy(load_settings(env_file=None, permissions_file=path))
    assert isinstance(policy, YamlPolicy)
    assert policy.tools_for(User("x@y.org"), TOOLS) == ["calculator", "sql_query"]


CUSTOM = '''
from access.policy import AllowAll

class OnlyCalculator(AllowAll):
    def __init__(self, settings):
        self.app_name = settings.app_name

    def tools_for(self, user, available):
        return [name for name in available if name == "calculator"]

class NoArguments(AllowAll):
    pass

class Broken:
    def __init__(self):
        raise RuntimeError("no database")

class NotAPolicy:
    pass
'''


@pytest.fixture
def custom_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "site_policy.py").write_text(CUSTOM)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("site_policy", None)
    return "site_policy"


def test_access_policy_class_with_settings(custom_module: str) -> None:
    settings = load_settings(env_file=None, access_policy=f"{custom_module}:OnlyCalculator", app_name="Acme")
    policy = load_policy(settings)
    assert policy.tools_for(User("a@example.com"), TOOLS) == ["calculator"]
    assert policy.app_name == "Acme"  # type: ignore[attr-defined]


def test_access_policy_class_without_arguments(custom_module: str) -> None:
    policy = load_policy(load_settings(env_file=None, access_policy=f"{custom_module}:NoArguments"))
    assert policy.tools_for(User("a@example.com"), TOOLS) == TOOLS


@pytest.mark.parametrize(("spec", "expected"), [
    ("site_policy:Missing", "site_policy has no class named Missing"),
    ("site_policy:Broken", "building it failed (RuntimeError: no database)"),
    ("site_policy:NotAPolicy", "not a Policy (missing tools_for, data_sources_for, models_for, can_use)"),
    ("no_such_module_here:X", "cannot import no_such_module_here (ModuleNotFoundError"),
])
def test_access_policy_errors_are_one_line(custom_module: str, spec: str, expected: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(load_settings(env_file=None, access_policy=spec))
    assert str(caught.value).startswith(f"invalid setting ACCESS_POLICY: {spec}: {expected}")
    assert "\n" not in str(caught.value)


def test_access_policy_must_look_like_module_colon_class() -> None:
    with pytest.raises(SettingsError, match=r"ACCESS_POLICY: must look like package\.module:ClassName"):
        load_settings(env_file=None, access_policy="just_a_module")


def test_bad_permissions_file_stops_services_build(tmp_path: Path) -> None:
    # Services.build raises before any thread starts; the CLI turns PolicyError into one line.
    from galaxy_chat.services import Services

    path = tmp_path / "permissions.yml"
    path.write_text("groups:\n  team:\n    tools: [calculator]\n")
    settings = load_settings(env_file=None, permissions_file=path, data_dir=tmp_path / "data",
                             log_dir=tmp_path / "logs")
    with pytest.raises(PolicyError, match=r"groups\.team: the group has no members"):
        Services.build(settings)



def test_mcp_servers_and_their_tools_are_granted_and_denied_by_group() -> None:
    policy = YamlPolicy.parse("""
groups:
  default:
    tools: [calculator]
  devs:
    members: ["*@dev.example"]
    mcp_servers: [github, time]
    tools: ["jira__search"]
  interns:
    members: [intern@dev.example]
    deny:
      tools: ["github__delete_*"]
      mcp_servers: [time]
""", "p.yml")
    dev, intern, stranger = User("ada@dev.example"), User("intern@dev.example"), User("x@else.example")
    assert policy.can_use(dev, "tool", "github__create_issue") and policy.can_use(dev, "tool", "time__now")
    assert policy.can_use(dev, "tool", "jira__search") and not policy.can_use(dev, "tool", "jira__delete")
    assert policy.can_use(dev, "mcp_server", "github") and not policy.can_use(dev, "mcp_server", "jira")
    assert policy.can_use(intern, "tool", "github__create_issue")  # in devs too: the grant holds
    assert not policy.can_use(intern, "tool", "github__delete_repo")  # a tool glob denied
    assert not policy.can_use(intern, "tool", "time__now")  # a denied server takes all its tools
    assert not policy.can_use(stranger, "tool", "github__create_issue")


def test_uploads_are_allowed_unless_a_group_says_otherwise() -> None:
    policy = YamlPolicy.parse("""
groups:
  default: {tools: ["*"]}
  readers: {members: [rita@example.com], uploads: [table, document]}
  closed: {members: [carl@example.com], uploads: false}
  no_images: {members: ["*@galaxy.example"], deny: {uploads: [image]}}
""", "permissions")
    kinds = ["table", "document", "image", "text", "other"]

    def allowed(email: str) -> list[str]:
        return [kind for kind in kinds if policy.can_use(User(email), "upload", kind)]

    assert allowed("anyone@elsewhere.example") == kinds  # the default group says nothing: every kind
    assert allowed("rita@example.com") == ["table", "document"]
    assert allowed("carl@example.com") == []
    assert allowed("ada@galaxy.example") == ["table", "document", "text", "other"]
    with pytest.raises(PolicyError, match=r"groups.x.uploads\[0\]: 'spreadsheet' is not a kind of file"):
        YamlPolicy.parse("groups:\n  x: {members: [a@b.example], uploads: [spreadsheet]}", "permissions")
