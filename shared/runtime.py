"""The process-wide platform, built on first use (never at import, so a bad setting
cannot stop the Functions host from indexing the functions)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from shared.bootstrap import Platform, build_platform
from shared.observability import configure_logging
from shared.platform.messaging import Handler

_lock = threading.Lock()
_platform: Platform | None = None
_handlers: Mapping[str, Handler] | None = None


def get_platform() -> Platform:
    global _platform
    with _lock:
        if _platform is None:
            platform = build_platform()
            configure_logging(platform.settings.log_level)
            _platform = platform
            _subscribe_in_process(platform)
        return _platform


def get_handlers() -> Mapping[str, Handler]:
    global _handlers
    platform = get_platform()
    with _lock:
        if _handlers is None:
            from shared.pipeline import message_handlers

            _handlers = message_handlers(platform)
        return _handlers


def _subscribe_in_process(platform: Platform) -> None:
    subscribe = getattr(platform.bus, "subscribe", None)
    if subscribe is None:
        return  # Service Bus: the Functions host delivers to the triggers instead
    from shared.pipeline import message_handlers

    for queue, handler in message_handlers(platform).items():
        subscribe(queue, handler)


def use_platform(platform: Platform | None) -> None:
    """Install a platform built elsewhere (tests, the CLI); None forgets it."""
    global _platform, _handlers
    with _lock:
        _platform, _handlers = platform, None
        if platform is not None:
            _subscribe_in_process(platform)
