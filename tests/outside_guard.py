"""Runs ``python tests/outside_guard.py MODULE ARGS...`` as ``python -m MODULE ARGS...`` (the app's server,
in tests) with an audit hook that writes every attempt to reach a host other than this computer to the
file named by ``SKINGORITHM_TEST_OUTSIDE_LOG``, one line each: a name looked up, or a TCP connection
opened. The hook sees every socket call Python makes (``requests`` and ``urllib`` included), so an empty
file means nothing tried to leave. (A UDP "connect", which only picks a route and sends nothing, as
Streamlit's and phone mode's own-address lookups do, is not an attempt.)"""
from __future__ import annotations

import ipaddress
import os
import runpy
import socket
import sys

LOG = os.environ["SKINGORITHM_TEST_OUTSIDE_LOG"]
LOCAL_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost"}
LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"}


def is_local(host) -> bool:
    if host is None:
        return True
    text = (host.decode("latin-1") if isinstance(host, bytes) else str(host)).strip("[]").split("%")[0].lower()
    if text in LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def record(line: str) -> None:
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def hook(event: str, args: tuple) -> None:
    if event in LOOKUPS and not is_local(args[0]):
        record(f"{event} {args[0]!r}")
    elif event == "socket.connect":
        sock, address = args
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM \
                and not is_local(address[0]):
            record(f"connect {address!r}")


if __name__ == "__main__":
    sys.addaudithook(hook)
    sys.argv = sys.argv[1:]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
