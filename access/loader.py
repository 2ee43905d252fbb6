"""Choosing the app's policy at start-up: ACCESS_POLICY's class, else the YAML file, else AllowAll.

Call `load_policy(settings)` before the server starts (next to `load_models`), so a bad permission file or
a broken ACCESS_POLICY ends start-up with one line instead of a traceback.
"""

from __future__ import annotations

import importlib
import inspect
import logging

from access.policy import AllowAll, Policy
from access.yaml_policy import PolicyError, YamlPolicy
from galaxy_chat.settings import Settings

log = logging.getLogger(__name__)

POLICY_METHODS = ("tools_for", "data_sources_for", "models_for", "can_use")

__all__ = ["PolicyError", "custom_policy", "load_policy"]


def load_policy(settings: Settings) -> Policy:
    """The policy the app runs with. Raises PolicyError (one line) when it cannot be built."""
    if settings.access_policy:
        policy = custom_policy(settings.access_policy, settings)
        log.info("access policy: %s (ACCESS_POLICY)", settings.access_policy)
        return policy
    path = settings.permissions_file
    if not path.exists():
        # Documented behaviour: without a permissions file, a fresh install works out of the box.
        log.info("no permissions file at %s: everyone may use every tool, data source and model", path)
        return AllowAll()
    policy = YamlPolicy.from_file(path)
    log.info("access policy: %s (%d groups%s)", path, len(policy.groups), " and a default" if policy.default else "")
    return policy


def custom_policy(spec: str, settings: Settings) -> Policy:
    """Import `package.module:ClassName` and build it with `(settings)` when it takes an argument, else `()`."""
    module_name, _, class_name = spec.partition(":")
    where = f"invalid setting ACCESS_POLICY: {spec}"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure of foreign code is a configuration problem
        raise PolicyError(f"{where}: cannot import {module_name} ({type(exc).__name__}: {exc})") from None
    cls = getattr(module, class_name, None)
    if not inspect.isclass(cls):
        raise PolicyError(f"{where}: {module_name} has no class named {class_name}")
    try:
        inspect.signature(cls).bind(settings)
        takes_settings = True
    except TypeError:
        takes_settings = False
    except ValueError:  # no signature to inspect (some builtins): try the settings form
        takes_settings = True
    try:
        policy = cls(settings) if takes_settings else cls()
    except Exception as exc:
        raise PolicyError(f"{where}: building it failed ({type(exc).__name__}: {exc})") from None
    missing = [name for name in POLICY_METHODS if not callable(getattr(policy, name, None))]
    if missing:
        raise PolicyError(f"{where}: not a Policy (missing {', '.join(missing)})")
    return policy
