"""What the kill and soak parts of the fault campaign share: a free loopback port, the
configuration of a server of their own, and its /healthz."""

import os
import socket
import urllib.request

ENV = os.environ


def free_port():
    """A TCP port nobody listens on at 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_server_toml(path, state, extra=""):
    """server.toml for `m2mdm server --config`: @p state, TLS with the campaign's key, the PVA
    with its manufacturer CA, then @p extra (more tables)."""
    with open(path, "w") as f:
        f.write(f'state_dir = "{state}"\nlog_level = "warn"\n'
                f'[tls]\ncert = "{ENV["FC_TLS_CERT"]}"\nkey = "{ENV["FC_TLS_KEY"]}"\n'
                f'[pva]\nmanufacturer_ca = ["{ENV["FC_MANUFACTURER_CA"]}"]\n' + extra)


def healthy(url, ctx):
    """True when the server at @p url answers /healthz with 200."""
    try:
        with urllib.request.urlopen(url + "/healthz", context=ctx, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False
